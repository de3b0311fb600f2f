/* The catalogue: names and aliases, defaults, fans, calculate_gain, the
 * resolved formulas against hand-computed values, SPEC parsing in every
 * syntax, Keras JSON round trips, and every error path. */
#include "util.h"

static nninit_shape shp(int nd, ...)
{
    nninit_shape s = {nd, {0}};
    va_list ap;
    va_start(ap, nd);
    for (int i = 0; i < nd; i++)
        s.dim[i] = va_arg(ap, int64_t);
    va_end(ap);
    return s;
}
#define S1(a) shp(1, (int64_t)(a))
#define S2(a, b) shp(2, (int64_t)(a), (int64_t)(b))
#define S3(a, b, c) shp(3, (int64_t)(a), (int64_t)(b), (int64_t)(c))
#define S4(a, b, c, d) shp(4, (int64_t)(a), (int64_t)(b), (int64_t)(c), (int64_t)(d))

static nninit_prim resolve(const char *spec, nninit_shape s, nninit_layout layout)
{
    nninit_init in;
    nninit_prim p;
    nninit_err err;
    assert_ok(nninit_init_parse(spec, &in, &err), &err);
    assert_ok(nninit_resolve(&in, &s, layout, &p, &err), &err);
    return p;
}

static void test_names(void **state)
{
    (void)state;
    static const struct { const char *name; nninit_init_kind kind; } cases[] = {
        {"zeros", NNINIT_ZEROS}, {"Zeros", NNINIT_ZEROS}, {"zero", NNINIT_ZEROS},
        {"ones", NNINIT_ONES}, {"one", NNINIT_ONES}, {"Ones", NNINIT_ONES},
        {"constant", NNINIT_CONSTANT}, {"Constant", NNINIT_CONSTANT},
        {"random_normal", NNINIT_RANDOM_NORMAL}, {"RandomNormal", NNINIT_RANDOM_NORMAL}, {"normal", NNINIT_RANDOM_NORMAL},
        {"random_uniform", NNINIT_RANDOM_UNIFORM}, {"RandomUniform", NNINIT_RANDOM_UNIFORM}, {"uniform", NNINIT_RANDOM_UNIFORM},
        {"truncated_normal", NNINIT_TRUNCATED_NORMAL}, {"TruncatedNormal", NNINIT_TRUNCATED_NORMAL},
        {"variance_scaling", NNINIT_VARIANCE_SCALING}, {"VarianceScaling", NNINIT_VARIANCE_SCALING},
        {"glorot_normal", NNINIT_GLOROT_NORMAL}, {"GlorotNormal", NNINIT_GLOROT_NORMAL},
        {"glorot_uniform", NNINIT_GLOROT_UNIFORM}, {"GlorotUniform", NNINIT_GLOROT_UNIFORM},
        {"he_normal", NNINIT_HE_NORMAL}, {"HeNormal", NNINIT_HE_NORMAL},
        {"he_uniform", NNINIT_HE_UNIFORM}, {"HeUniform", NNINIT_HE_UNIFORM},
        {"lecun_normal", NNINIT_LECUN_NORMAL}, {"LecunNormal", NNINIT_LECUN_NORMAL},
        {"lecun_uniform", NNINIT_LECUN_UNIFORM}, {"LecunUniform", NNINIT_LECUN_UNIFORM},
        {"orthogonal", NNINIT_ORTHOGONAL}, {"Orthogonal", NNINIT_ORTHOGONAL}, {"OrthogonalInitializer", NNINIT_ORTHOGONAL},
        {"identity", NNINIT_IDENTITY}, {"Identity", NNINIT_IDENTITY}, {"IdentityInitializer", NNINIT_IDENTITY},
        {"uniform_", NNINIT_TORCH_UNIFORM}, {"normal_", NNINIT_TORCH_NORMAL},
        {"trunc_normal_", NNINIT_TORCH_TRUNC_NORMAL}, {"trunc_normal", NNINIT_TORCH_TRUNC_NORMAL},
        {"constant_", NNINIT_TORCH_CONSTANT}, {"ones_", NNINIT_TORCH_ONES}, {"zeros_", NNINIT_TORCH_ZEROS},
        {"eye_", NNINIT_TORCH_EYE}, {"eye", NNINIT_TORCH_EYE}, {"dirac_", NNINIT_TORCH_DIRAC}, {"dirac", NNINIT_TORCH_DIRAC},
        {"xavier_uniform_", NNINIT_TORCH_XAVIER_UNIFORM}, {"xavier_uniform", NNINIT_TORCH_XAVIER_UNIFORM},
        {"xavier_normal_", NNINIT_TORCH_XAVIER_NORMAL}, {"xavier_normal", NNINIT_TORCH_XAVIER_NORMAL},
        {"kaiming_uniform_", NNINIT_TORCH_KAIMING_UNIFORM}, {"kaiming_uniform", NNINIT_TORCH_KAIMING_UNIFORM},
        {"kaiming_normal_", NNINIT_TORCH_KAIMING_NORMAL}, {"kaiming_normal", NNINIT_TORCH_KAIMING_NORMAL},
        {"orthogonal_", NNINIT_TORCH_ORTHOGONAL}, {"sparse_", NNINIT_TORCH_SPARSE}, {"sparse", NNINIT_TORCH_SPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nninit_init_kind k;
        nninit_err err;
        assert_ok(nninit_init_kind_parse(cases[i].name, &k, &err), &err);
        if (k != cases[i].kind)
            fail_msg("'%s' resolved to %s", cases[i].name, nninit_init_kind_name(k));
    }
    /* every canonical name and class resolves back to itself */
    for (int k = 0; k < NNINIT_INIT_KIND_COUNT; k++) {
        nninit_init_kind got;
        assert_int_equal(nninit_init_kind_parse(nninit_init_kind_name((nninit_init_kind)k), &got, NULL), NNINIT_OK);
        assert_int_equal(got, k);
    }
    /* case-sensitive as Keras, with a suggestion */
    nninit_init_kind k;
    nninit_err err;
    assert_int_equal(nninit_init_kind_parse("glorot_unifrom", &k, &err), NNINIT_ENOTFOUND);
    assert_string_equal(err.msg, "unknown initializer 'glorot_unifrom'; did you mean 'glorot_uniform'?");
    assert_int_equal(nninit_init_kind_parse("HENORMAL", &k, &err), NNINIT_ENOTFOUND);
    assert_int_equal(nninit_init_kind_parse("totally_unknown_thing", &k, &err), NNINIT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "nninit list"));
}

static void test_fans(void **state)
{
    (void)state;
    int64_t fi, fo;
    nninit_err err;
    nninit_shape s;
    /* Keras: 0-D (1,1), 1-D (n,n), 2-D (d0,d1), N-D receptive field = prod(d[:-2]) */
    s = shp(0);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_KERAS, &fi, &fo, &err), &err);
    assert_true(fi == 1 && fo == 1);
    s = S1(7);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_KERAS, &fi, &fo, &err), &err);
    assert_true(fi == 7 && fo == 7);
    s = S2(784, 256);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_KERAS, &fi, &fo, &err), &err);
    assert_true(fi == 784 && fo == 256);
    s = S4(3, 3, 64, 128);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_KERAS, &fi, &fo, &err), &err);
    assert_true(fi == 9 * 64 && fo == 9 * 128);
    s = S3(5, 16, 32);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_KERAS, &fi, &fo, &err), &err);
    assert_true(fi == 80 && fo == 160);
    /* torch: (out, in, *k) */
    s = S2(256, 784);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_TORCH, &fi, &fo, &err), &err);
    assert_true(fi == 784 && fo == 256);
    s = S4(128, 64, 3, 3);
    assert_ok(nninit_fans(&s, NNINIT_LAYOUT_TORCH, &fi, &fo, &err), &err);
    assert_true(fi == 64 * 9 && fo == 128 * 9);
    s = S1(10);
    assert_int_equal(nninit_fans(&s, NNINIT_LAYOUT_TORCH, &fi, &fo, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "at least 2"));
    s = shp(0);
    assert_int_equal(nninit_fans(&s, NNINIT_LAYOUT_TORCH, &fi, &fo, &err), NNINIT_EINVAL);
}

static void test_shapes(void **state)
{
    (void)state;
    nninit_shape s;
    nninit_err err;
    int64_t n;
    assert_ok(nninit_shape_parse("3,3,64,128", &s, &err), &err);
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.dim[3], 128);
    assert_ok(nninit_shape_parse("[784, 256]", &s, &err), &err);
    assert_true(s.ndim == 2 && s.dim[0] == 784);
    assert_ok(nninit_shape_parse("3x3x8", &s, &err), &err);
    assert_int_equal(s.ndim, 3);
    assert_ok(nninit_shape_parse("()", &s, &err), &err);
    assert_int_equal(s.ndim, 0);
    assert_ok(nninit_shape_numel(&s, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(nninit_shape_parse("64,0,3,3", &s, &err), NNINIT_EINVAL);
    assert_string_equal(err.msg, "shape '64,0,3,3': dimension 1 is 0; every dimension must be >= 1");
    assert_int_equal(nninit_shape_parse("4,-2", &s, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_shape_parse("4,a", &s, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_shape_parse("1,2,3,4,5,6,7,8,9", &s, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "more than 8"));
    assert_int_equal(nninit_shape_parse("4294967296,4294967296", &s, &err), NNINIT_EOVERFLOW);
    assert_int_equal(nninit_shape_parse("99999999999999999999999", &s, &err), NNINIT_EOVERFLOW);
    /* byte size of a float64 tensor must fit: 2^60 elements * 8 bytes overflows */
    assert_int_equal(nninit_shape_parse("1073741824,1073741824", &s, &err), NNINIT_EOVERFLOW);
    nninit_shape bad = {9, {1}};
    assert_int_equal(nninit_shape_numel(&bad, &n, &err), NNINIT_EINVAL);
}

static void test_gain(void **state)
{
    (void)state;
    double g;
    nninit_err err;
    const char *ones[] = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                          "conv_transpose3d", "sigmoid"};
    for (size_t i = 0; i < 8; i++) {
        assert_ok(nninit_calculate_gain(ones[i], 0, 0, &g, &err), &err);
        assert_true(g == 1.0);
    }
    assert_ok(nninit_calculate_gain("tanh", 0, 0, &g, &err), &err);
    assert_true(g == 5.0 / 3);
    assert_ok(nninit_calculate_gain("relu", 0, 0, &g, &err), &err);
    assert_true(g == sqrt(2.0));
    assert_ok(nninit_calculate_gain("leaky_relu", 0, 0, &g, &err), &err);
    assert_true(g == sqrt(2.0 / (1 + 0.01 * 0.01))); /* 1.41414... with param None */
    assert_close(g, 1.4141428569978354, 1e-15);
    assert_ok(nninit_calculate_gain("leaky_relu", 1, 0.2, &g, &err), &err);
    assert_close(g, sqrt(2.0 / 1.04), 1e-15);
    assert_ok(nninit_calculate_gain("selu", 0, 0, &g, &err), &err);
    assert_true(g == 0.75);
    assert_int_equal(nninit_calculate_gain("gelu", 0, 0, &g, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "unsupported nonlinearity 'gelu'"));
}

/* Each formula against a hand computation for a shape with fan_in != fan_out,
 * so swapped fans would be caught. */
static void test_formulas(void **state)
{
    (void)state;
    const nninit_layout K = NNINIT_LAYOUT_KERAS, T = NNINIT_LAYOUT_TORCH;
    nninit_prim p;
    /* Keras HWIO (3,3,64,128): fan_in 576, fan_out 1152, avg 864 */
    p = resolve("glorot_uniform", S4(3, 3, 64, 128), K);
    assert_int_equal(p.kind, NNINIT_PRIM_UNIFORM);
    assert_true(p.hi == sqrt(3.0 * (1.0 / 864.0)) && p.lo == -p.hi);
    p = resolve("glorot_normal", S4(3, 3, 64, 128), K);
    assert_int_equal(p.kind, NNINIT_PRIM_TRUNC_NORMAL);
    assert_true(p.std == sqrt(1.0 / 864.0) / 0.87962566103423978);
    assert_true(p.a == -2.0 * p.std && p.b == 2.0 * p.std);
    assert_close(p.expected_std, sqrt(1.0 / 864.0), 1e-12); /* post-truncation std = sqrt(scale/n) */
    p = resolve("he_normal", S4(3, 3, 64, 128), K);
    assert_true(p.std == sqrt(2.0 / 576.0) / 0.87962566103423978);
    p = resolve("he_uniform", S2(100, 10), K);
    assert_true(p.hi == sqrt(3.0 * (2.0 / 100.0)));
    p = resolve("lecun_normal", S2(100, 10), K);
    assert_true(p.std == sqrt(1.0 / 100.0) / 0.87962566103423978);
    p = resolve("lecun_uniform", S2(100, 10), K);
    assert_true(p.hi == sqrt(3.0 * (1.0 / 100.0)));
    p = resolve("VarianceScaling(scale=2.0, mode=\"fan_out\", distribution=\"uniform\")", S2(100, 10), K);
    assert_true(p.hi == sqrt(3.0 * (2.0 / 10.0)));
    p = resolve("VarianceScaling(mode='fan_avg', distribution='untruncated_normal', scale=0.5)", S2(100, 10), K);
    assert_int_equal(p.kind, NNINIT_PRIM_NORMAL);
    assert_true(p.std == sqrt(0.5 / 55.0));
    p = resolve("VarianceScaling(distribution='normal')", S2(100, 10), K); /* "normal" means truncated */
    assert_int_equal(p.kind, NNINIT_PRIM_TRUNC_NORMAL);
    /* max(1, n): a 1-element bias */
    p = resolve("he_uniform", S1(1), K);
    assert_true(p.hi == sqrt(6.0));
    /* Keras 3.15 explicit axes: attention kernel (d_model, heads, key_dim) */
    p = resolve("VarianceScaling(input_axes=[0], output_axes=[1, 2], distribution='uniform')", S3(64, 8, 16), K);
    assert_true(p.fan_in == 64 && p.fan_out == 128);
    assert_true(p.hi == sqrt(3.0 * (1.0 / 64.0)));
    p = resolve("random_normal", S2(3, 4), K);
    assert_true(p.kind == NNINIT_PRIM_NORMAL && p.mean == 0.0 && p.std == 0.05);
    p = resolve("random_uniform", S2(3, 4), K);
    assert_true(p.lo == -0.05 && p.hi == 0.05);
    p = resolve("TruncatedNormal(mean=1.0, stddev=0.5)", S2(3, 4), K);
    assert_true(p.a == 0.0 && p.b == 2.0 && p.std == 0.5);
    p = resolve("Constant(value=0.3)", S2(3, 4), K);
    assert_true(p.kind == NNINIT_PRIM_CONSTANT && p.value == 0.3);
    p = resolve("orthogonal", S4(3, 3, 4, 5), K);
    assert_true(p.rows == 36 && p.cols == 5 && !p.torch_flatten);
    p = resolve("orthogonal_(gain=2)", S4(5, 4, 3, 3), T);
    assert_true(p.rows == 5 && p.cols == 36 && p.torch_flatten && p.gain == 2.0);
    p = resolve("Identity(gain=3)", S2(3, 5), K);
    assert_true(p.kind == NNINIT_PRIM_EYE && p.gain == 3.0 && p.rows == 3 && p.cols == 5);

    /* torch (out, in, k, k) = (128, 64, 3, 3): fan_in 576, fan_out 1152 */
    p = resolve("kaiming_uniform_", S4(128, 64, 3, 3), T);
    assert_true(p.hi == sqrt(3.0) * (sqrt(2.0) / sqrt(576.0)));
    p = resolve("kaiming_normal_(mode='fan_out', nonlinearity='relu')", S4(128, 64, 3, 3), T);
    assert_true(p.std == sqrt(2.0) / sqrt(1152.0));
    p = resolve("kaiming_normal_(a=0.1, mode='FAN_OUT', nonlinearity='leaky_relu')", S2(30, 20), T);
    assert_true(p.std == sqrt(2.0 / (1 + pow(0.1, 2.0))) / sqrt(30.0));
    /* nn.Linear's a = sqrt(5): a**2 = 5.000000000000001 in double */
    p = resolve("kaiming_uniform_(a=math.sqrt(5))", S2(30, 20), T);
    assert_true(p.hi == sqrt(3.0) * (sqrt(2.0 / (1 + pow(sqrt(5.0), 2.0))) / sqrt(20.0)));
    assert_close(p.hi, 1 / sqrt(20.0), 1e-15);
    p = resolve("xavier_uniform_(gain=2.0)", S2(30, 20), T);
    assert_true(p.hi == sqrt(3.0) * (2.0 * sqrt(2.0 / 50.0)));
    p = resolve("xavier_normal_", S2(30, 20), T);
    assert_true(p.std == sqrt(2.0 / 50.0));
    p = resolve("uniform_(-1, 2)", S2(3, 4), T);
    assert_true(p.lo == -1.0 && p.hi == 2.0);
    p = resolve("normal_(std=0.02)", S2(3, 4), T);
    assert_true(p.std == 0.02 && p.mean == 0.0);
    p = resolve("trunc_normal_(std=0.02)", S2(3, 4), T);
    assert_true(p.a == -2.0 && p.b == 2.0 && p.std == 0.02); /* absolute bounds */
    p = resolve("trunc_normal_(mean=0.0, std=0.02, a=-0.04, b=0.04)", S2(3, 4), T);
    assert_close(p.expected_std, 0.02 * 0.87962566103423978, 1e-12);
    p = resolve("sparse_(sparsity=0.5, std=0.1)", S2(10, 3), T);
    assert_true(p.kind == NNINIT_PRIM_SPARSE && p.sparsity == 0.5 && p.std == 0.1);
    p = resolve("constant_(val=2.5)", S2(3, 4), T);
    assert_true(p.value == 2.5);
    p = resolve("dirac_(groups=2)", S4(8, 3, 3, 3), T);
    assert_true(p.kind == NNINIT_PRIM_DIRAC && p.groups == 2);

    /* extensions */
    p = resolve("scaled_residual(num_layers=24)", S2(768, 768), K);
    assert_true(p.kind == NNINIT_PRIM_NORMAL && p.std == 0.02 / sqrt(48.0));
    p = resolve("ScaledResidual(stddev=0.01, num_layers=6, branches=1)", S2(8, 8), T);
    assert_true(p.std == 0.01 / sqrt(6.0));
    p = resolve("fixup(num_layers=16)", S4(3, 3, 64, 128), K); /* He (fan_in 576) * 16^(-1/2) */
    assert_true(p.std == sqrt(2.0 / 576.0) * pow(16.0, -0.5));
    p = resolve("Fixup(num_layers=8, m=3)", S2(100, 10), K);
    assert_close(p.std, sqrt(2.0 / 100.0) * pow(8.0, -0.25), 1e-16);
    p = resolve("irnn(gain=0.5)", S2(4, 16), K);
    assert_true(p.kind == NNINIT_PRIM_BLOCK_EYE && p.gain == 0.5 && p.rows == 4 && p.cols == 16);
    p = resolve("delta_orthogonal", S4(3, 3, 16, 32), K);
    assert_true(p.kind == NNINIT_PRIM_DELTA_ORTHOGONAL && p.rows == 16 && p.cols == 32 && !p.torch_flatten);
    p = resolve("delta_orthogonal", S4(32, 16, 3, 3), T);
    assert_true(p.rows == 16 && p.cols == 32 && p.torch_flatten);

    /* swapped fans change the answer: the shape distinguishes them */
    nninit_prim q = resolve("he_normal", S2(64, 512), K);
    nninit_prim r = resolve("he_normal", S2(512, 64), K);
    assert_true(fabs(q.std / r.std - sqrt(8.0)) < 1e-12);
}

static void test_spec_syntax(void **state)
{
    (void)state;
    nninit_init in;
    nninit_err err;
    assert_ok(nninit_init_parse("  he_normal  ", &in, &err), &err);
    assert_int_equal(in.kind, NNINIT_HE_NORMAL);
    assert_ok(nninit_init_parse("HeNormal()", &in, &err), &err);
    assert_ok(nninit_init_parse("keras.initializers.HeNormal(seed=42)", &in, &err), &err);
    assert_true(in.has_seed && in.seed == 42);
    assert_ok(nninit_init_parse("torch.nn.init.kaiming_normal_(a=0.1, mode=\"fan_out\", nonlinearity=\"leaky_relu\")", &in, &err), &err);
    assert_true(in.kind == NNINIT_TORCH_KAIMING_NORMAL && in.neg_slope == 0.1 && in.mode == NNINIT_FAN_OUT &&
                in.nonlinearity == NNINIT_NL_LEAKY_RELU);
    assert_ok(nninit_init_parse("RandomUniform(-1, 1)", &in, &err), &err); /* positional, in constructor order */
    assert_true(in.minval == -1 && in.maxval == 1);
    assert_ok(nninit_init_parse("VarianceScaling(2.0, fan_out, uniform)", &in, &err), &err);
    assert_true(in.scale == 2.0 && in.mode == NNINIT_FAN_OUT && in.distribution == NNINIT_DIST_UNIFORM);
    assert_ok(nninit_init_parse("constant_(0.1)", &in, &err), &err);
    assert_true(in.has_value && in.value == 0.1);
    assert_ok(nninit_init_parse("normal_(generator=None)", &in, &err), &err);
#ifdef NNINIT_HAVE_JANSSON
    /* Keras 3 serialized form */
    assert_ok(nninit_init_parse("{\"module\": \"keras.initializers\", \"class_name\": \"VarianceScaling\", \"config\": "
                                "{\"seed\": 7, \"scale\": 2.0, \"mode\": \"fan_out\", \"distribution\": \"uniform\", "
                                "\"input_axes\": null, \"output_axes\": null}, \"registered_name\": null}",
                                &in, &err), &err);
    assert_true(in.kind == NNINIT_VARIANCE_SCALING && in.scale == 2.0 && in.seed == 7 && in.has_seed);
    /* Keras 2 form, integer-valued floats, and a SeedGenerator seed */
    assert_ok(nninit_init_parse("{\"class_name\": \"RandomNormal\", \"config\": {\"mean\": 1, \"stddev\": 2, \"seed\": null}}",
                                &in, &err), &err);
    assert_true(in.mean == 1.0 && in.stddev == 2.0 && !in.has_seed);
    assert_ok(nninit_init_parse("{\"class_name\": \"Orthogonal\", \"config\": {\"gain\": 1.5, \"seed\": {\"module\": "
                                "\"keras.random\", \"class_name\": \"SeedGenerator\", \"config\": {\"seed\": 9}}}}",
                                &in, &err), &err);
    assert_true(in.gain == 1.5 && in.seed == 9);
    /* tf.keras 2.x: a "dtype" entry in the config is ignored */
    assert_ok(nninit_init_parse("{\"class_name\": \"VarianceScaling\", \"config\": {\"scale\": 2.0, \"mode\": \"fan_in\", "
                                "\"distribution\": \"uniform\", \"seed\": null, \"dtype\": \"float32\"}}",
                                &in, &err), &err);
    assert_true(in.scale == 2.0 && in.distribution == NNINIT_DIST_UNIFORM);
    assert_ok(nninit_init_parse("\"glorot_uniform\"", &in, &err), &err);
    assert_int_equal(in.kind, NNINIT_GLOROT_UNIFORM);
#else
    /* a build without jansson refuses JSON with one clear line */
    print_message("skipped (no jansson in this build): the JSON specs; checking their error instead\n");
    assert_int_equal(nninit_init_parse("\"glorot_uniform\"", &in, &err), NNINIT_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "JSON needs jansson"));
    assert_null(strchr(err.msg, '\n'));
#endif
}

static void test_json_round_trip(void **state)
{
    (void)state;
    const char *specs[] = {"zeros", "ones", "Constant(value=0.25)", "RandomNormal(mean=0.5, stddev=0.1, seed=3)",
                           "RandomUniform(minval=-1, maxval=2)", "TruncatedNormal(stddev=0.02)",
                           "VarianceScaling(scale=0.1, mode='fan_avg', distribution='untruncated_normal')",
                           "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
                           "lecun_uniform", "Orthogonal(gain=2.0, seed=1)", "Identity(gain=0.5)",
                           "uniform_(a=-0.5, b=0.5)", "normal_(mean=1, std=3)", "trunc_normal_(std=0.02, a=-0.04, b=0.04)",
                           "constant_(val=1.5)", "ones_", "zeros_", "eye_", "dirac_(groups=2)",
                           "xavier_uniform_(gain=1.5)", "xavier_normal_", "kaiming_uniform_(a=2.23606797749979)",
                           "kaiming_normal_(mode='fan_out', nonlinearity='relu')", "orthogonal_(gain=0.5)",
                           "sparse_(sparsity=0.1, std=0.02)", "delta_orthogonal(gain=2)", "irnn(gain=0.1)",
                           "scaled_residual(stddev=0.01, num_layers=3)", "fixup(num_layers=4, m=3)",
                           "STFT(side='imag', window=None, periodic=True, scaling='spectrum')", "stft"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        nninit_init a, b;
        nninit_err err;
        char *json = NULL;
        assert_ok(nninit_init_parse(specs[i], &a, &err), &err);
        assert_ok(nninit_init_to_json(&a, &json, &err), &err);
#ifdef NNINIT_HAVE_JANSSON
        assert_ok(nninit_init_parse(json, &b, &err), &err);
        if (memcmp(&a, &b, sizeof a) != 0)
            fail_msg("round trip of '%s' through %s changed it", specs[i], json);
#else
        (void)b;
        if (i == 0)
            print_message("skipped (no jansson in this build): parsing the JSON back\n");
#endif
        nninit_free(json);
    }
    nninit_init in;
    nninit_err err;
    char *json;
    assert_ok(nninit_init_parse("glorot_uniform", &in, &err), &err);
    assert_ok(nninit_init_to_json(&in, &json, &err), &err);
    assert_string_equal(json, "{\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\", \"config\": "
                              "{\"seed\": null, \"input_axes\": null, \"output_axes\": null}, \"registered_name\": null}");
    nninit_free(json);
    assert_ok(nninit_init_parse("RandomNormal(stddev=0.02, seed=42)", &in, &err), &err);
    assert_ok(nninit_init_to_json(&in, &json, &err), &err);
    assert_string_equal(json, "{\"module\": \"keras.initializers\", \"class_name\": \"RandomNormal\", \"config\": "
                              "{\"seed\": 42, \"mean\": 0.0, \"stddev\": 0.02}, \"registered_name\": null}");
    nninit_free(json);
}

static void expect_error(const char *spec, nninit_status code, const char *fragment)
{
    nninit_init in;
    nninit_err err = {0};
    nninit_status st = nninit_init_parse(spec, &in, &err);
    if (st != code || !strstr(err.msg, fragment))
        fail_msg("spec %s: got %s '%s', expected %s containing '%s'", spec, nninit_status_str(st), err.msg,
                 nninit_status_str(code), fragment);
    assert_int_equal(in.kind, NNINIT_ZEROS); /* reset on failure */
}

/* A JSON spec's error; a build without jansson gives its own instead. */
static void expect_json_error(const char *spec, nninit_status code, const char *fragment)
{
#ifdef NNINIT_HAVE_JANSSON
    expect_error(spec, code, fragment);
#else
    (void)code;
    (void)fragment;
    expect_error(spec, NNINIT_EUNSUPPORTED, "JSON needs jansson");
#endif
}

static void test_spec_errors(void **state)
{
    (void)state;
    expect_error("glorot_unifrom", NNINIT_ENOTFOUND, "did you mean 'glorot_uniform'?");
    expect_error("RandomNormal(stdev=0.1)", NNINIT_EINVAL, "unknown argument 'stdev'; did you mean 'stddev'?");
    expect_error("HeNormal(scale=2)", NNINIT_EINVAL, "unknown argument 'scale'");
    expect_error("RandomNormal(stddev=-1)", NNINIT_EINVAL, "stddev is -1; it must be >= 0");
    expect_error("VarianceScaling(scale=0)", NNINIT_EINVAL, "scale is 0; it must be a positive float");
    expect_error("VarianceScaling(scale=-1)", NNINIT_EINVAL, "must be a positive float");
    expect_error("RandomUniform(minval=1, maxval=0)", NNINIT_EINVAL, "minval 1 is greater than maxval 0");
    expect_error("uniform_(a=1, b=0)", NNINIT_EINVAL, "a 1 is greater than b 0");
    expect_error("VarianceScaling(mode='fan_sideways')", NNINIT_EINVAL, "invalid mode 'fan_sideways'");
    expect_error("VarianceScaling(distribution='cauchy')", NNINIT_EINVAL, "invalid distribution 'cauchy'");
    expect_error("kaiming_uniform_(mode='fan_avg')", NNINIT_EINVAL, "invalid mode 'fan_avg'");
    expect_error("kaiming_uniform_(nonlinearity='gelu')", NNINIT_EINVAL, "unsupported nonlinearity 'gelu'");
    expect_error("trunc_normal_(a=0, b=0)", NNINIT_EINVAL, "need a < b");
    expect_error("trunc_normal_(mean=0, std=1, a=50, b=60)", NNINIT_EINVAL, "zero probability");
    expect_error("trunc_normal_(std=0)", NNINIT_EINVAL, "std is 0");
    expect_error("RandomNormal(stddev=nan)", NNINIT_EINVAL, "must be finite");
    expect_error("RandomNormal(mean=inf)", NNINIT_EINVAL, "must be finite");
    expect_json_error("{\"class_name\": \"RandomNormal\", \"config\": {\"mean\": 1e999}}", NNINIT_EINVAL, "");
    expect_error("constant_", NNINIT_EINVAL, "missing required argument 'val'");
    expect_error("sparse_(std=0.1)", NNINIT_EINVAL, "missing required argument 'sparsity'");
    expect_error("sparse_(sparsity=1.5)", NNINIT_EINVAL, "sparsity is 1.5");
    expect_error("dirac_(groups=0)", NNINIT_EINVAL, "groups is 0");
    expect_error("dirac_(groups=1.5)", NNINIT_EINVAL, "must be an integer");
    expect_error("RandomNormal(0.1, 0.2, 3, 4)", NNINIT_EINVAL, "takes 3 arguments");
    expect_error("RandomNormal(mean=0.1, 0.2)", NNINIT_EINVAL, "positional argument follows keyword");
    expect_error("RandomNormal(mean=0.1, mean=0.2)", NNINIT_EINVAL, "given twice");
    expect_error("RandomNormal(mean=0.1", NNINIT_EINVAL, "expected ',' or ')'");
    expect_error("he_normal extra", NNINIT_EINVAL, "unexpected text");
    expect_error("RandomNormal(mean='x')", NNINIT_EINVAL, "must be a number");
    expect_error("", NNINIT_EINVAL, "empty initializer spec");
    expect_json_error("{\"class_name\": \"HeNormal\", \"config\": {}, \"oops\": 1}", NNINIT_EINVAL, "unexpected key 'oops'");
    expect_json_error("{\"class_name\": \"RandomNormal\", \"config\": {\"mean\": 1, \"mean\": 2}}", NNINIT_EINVAL, "duplicate");
    expect_json_error("{\"class_name\": \"HeNormal\"", NNINIT_EINVAL, "initializer JSON");
    expect_json_error("{\"module\": \"my_pkg\", \"class_name\": \"HeNormal\", \"config\": {}}", NNINIT_EINVAL, "custom initializers");
    expect_json_error("{\"config\": {}}", NNINIT_EINVAL, "missing string 'class_name'");
    expect_error("@/nonexistent/spec.json", NNINIT_ENOTFOUND, "no such file");
    expect_error("kaiming_uniform_(a=True)", NNINIT_EINVAL, "must be a number");
    expect_error("normal_(generator=5)", NNINIT_EINVAL, "can only be None");
    expect_error("fixup(m=1)", NNINIT_EINVAL, "m >= 2");
    expect_error("fixup(num_layers=0)", NNINIT_EINVAL, "num_layers is 0");
    expect_error("scaled_residual(branches=0)", NNINIT_EINVAL, "must be >= 1");
}

static void test_shape_errors(void **state)
{
    (void)state;
    nninit_init in;
    nninit_prim p;
    nninit_err err;
    nninit_shape s1 = S1(5), s3 = S3(2, 3, 4), s2 = S2(4, 4), s6 = shp(6, 2, 2, 2, 2, 2, (int64_t)2);
    assert_ok(nninit_init_parse("Identity", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s3, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    assert_string_equal(err.msg, "identity needs a 2-D shape; got [2, 3, 4]");
    assert_ok(nninit_init_parse("eye_", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s1, NNINIT_LAYOUT_TORCH, &p, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("orthogonal", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s1, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("dirac_", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s2, NNINIT_LAYOUT_TORCH, &p, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_resolve(&in, &s6, NNINIT_LAYOUT_TORCH, &p, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("dirac_(groups=3)", &in, &err), &err);
    nninit_shape conv = S4(8, 2, 3, 3);
    assert_int_equal(nninit_resolve(&in, &conv, NNINIT_LAYOUT_TORCH, &p, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "not divisible by groups"));
    assert_ok(nninit_init_parse("sparse_(sparsity=0.5)", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s3, NNINIT_LAYOUT_TORCH, &p, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("irnn", &in, &err), &err);
    nninit_shape gates = S2(4, 10);
    assert_int_equal(nninit_resolve(&in, &gates, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "multiple of the smaller"));
    /* torch kinds that need fans refuse < 2 dims as PyTorch does; Keras ones use (n, n) */
    assert_ok(nninit_init_parse("kaiming_uniform_", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s1, NNINIT_LAYOUT_TORCH, &p, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_resolve(&in, &s1, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("glorot_uniform", &in, &err), &err);
    assert_ok(nninit_resolve(&in, &s1, NNINIT_LAYOUT_KERAS, &p, &err), &err);
    assert_true(p.hi == sqrt(3.0 * (1.0 / 5.0)));
    assert_ok(nninit_init_parse("VarianceScaling(input_axes=[5], output_axes=[0])", &in, &err), &err);
    assert_int_equal(nninit_resolve(&in, &s2, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
    assert_ok(nninit_init_parse("he_normal", &in, &err), &err);
    nninit_shape zero = S2(4, 0);
    assert_int_equal(nninit_resolve(&in, &zero, NNINIT_LAYOUT_KERAS, &p, &err), NNINIT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),       cmocka_unit_test(test_fans),
        cmocka_unit_test(test_shapes),      cmocka_unit_test(test_gain),
        cmocka_unit_test(test_formulas),    cmocka_unit_test(test_spec_syntax),
        cmocka_unit_test(test_json_round_trip), cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_shape_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
