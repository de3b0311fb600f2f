// Second reference for the Keras fan rules and formulas: TensorFlow.js
// layers (a port of keras.initializers). For each (initializer, shape) it
// records the serialized config and the min/max/std of 2^16+ samples, so the
// test can check nninit's resolved bounds against an independent
// implementation. Known tfjs differences (documented in
// ../shared/reference/initializers.md section 3) are accounted for in
// tests/test_tfjs.c: truncated normals are not variance-corrected (std =
// sqrt(scale/n), bounds +-2 std), and rank-1 fans are sqrt(n).
// Run (npm registry): npm install --prefix /tmp/tfjs @tensorflow/tfjs@4 &&
//   NODE_PATH=/tmp/tfjs/node_modules node tools/make_tfjs_fixtures.js | grep -E "^[#a-z]" > tests/fixtures/tfjs/samples.txt
const tf = require('@tensorflow/tfjs');
const cases = [
  ['glorotUniform', 'glorot_uniform', [300, 200]],
  ['glorotUniform', 'glorot_uniform', [3, 3, 32, 64]],
  ['glorotUniform', 'glorot_uniform', [5, 40, 80]],
  ['glorotUniform', 'glorot_uniform', [2, 2, 2, 16, 8]],
  ['heUniform', 'he_uniform', [3, 3, 64, 32]],
  ['heUniform', 'he_uniform', [500, 100]],
  ['leCunUniform', 'lecun_uniform', [400, 200]],
  ['glorotNormal', 'glorot_normal', [300, 200]],
  ['heNormal', 'he_normal', [3, 3, 64, 32]],
  ['leCunNormal', 'lecun_normal', [7, 50, 30]],
  ['randomUniform', 'random_uniform', [300, 200]],
  ['randomNormal', 'random_normal', [300, 200]],
  ['truncatedNormal', 'truncated_normal', [300, 200]],
];
console.log('# tfjs ' + tf.version.tfjs + ': keras_name shape min max std config');
for (const [tfName, kerasName, shape] of cases) {
  const init = tf.initializers[tfName]({seed: 7});
  const t = init.apply(shape, 'float32');
  const v = t.dataSync();
  let mn = Infinity, mx = -Infinity, s = 0, ss = 0;
  for (const x of v) { mn = Math.min(mn, x); mx = Math.max(mx, x); s += x; ss += x * x; }
  const m = s / v.length, std = Math.sqrt(ss / v.length - m * m);
  const cfg = JSON.stringify(tf.serialization.SerializationMap ? init.getConfig() : {});
  console.log([kerasName, shape.join(','), mn.toPrecision(9), mx.toPrecision(9), std.toPrecision(9), cfg].join(' '));
}
