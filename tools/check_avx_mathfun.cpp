// Checks nninit's portable port of the AVX2 normal kernel (src/torch_kernels.c)
// against ATen's own avx_mathfun.h (libtorch-dev 1.13.1 headers) compiled the
// way Debian builds the AVX2 kernels (g++ -O2 -mavx2 -mfma), on every one of
// the 2^24 float32 uniforms as u1 (log argument) and as u2 (angle). Not part of
// the build; run:
//   make BUILD=build  # for build/libnninit.a
//   g++ -O2 -mavx2 -mfma -DCPU_CAPABILITY_AVX2 -DCPU_CAPABILITY=AVX2 tools/check_avx_mathfun.cpp \
//       build/libnninit.a $(pkg-config --libs openblas lapacke zlib jansson) -lm -pthread -o /tmp/chk && /tmp/chk
#include <ATen/native/cpu/avx_mathfun.h>
#include <cstdio>
#include <cstring>
#include <cstdint>
extern "C" float nninit__torch_avx_logf(float x);
extern "C" void nninit__torch_avx_sincosf(float x, float *s, float *c);
static void block(float *data, float mean, float std) {
  const __m256 two_pi = _mm256_set1_ps(2.0f * 3.141592653589793);
  const __m256 one = _mm256_set1_ps(1.0f), minus_two = _mm256_set1_ps(-2.0f);
  const __m256 mean_v = _mm256_set1_ps(mean), std_v = _mm256_set1_ps(std);
  const __m256 u1 = _mm256_sub_ps(one, _mm256_loadu_ps(data));
  const __m256 u2 = _mm256_loadu_ps(data + 8);
  const __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(minus_two, log256_ps(u1)));
  const __m256 theta = _mm256_mul_ps(two_pi, u2);
  __m256 s, c; sincos256_ps(theta, &s, &c);
  _mm256_storeu_ps(data, _mm256_fmadd_ps(_mm256_mul_ps(radius, c), std_v, mean_v));
  _mm256_storeu_ps(data + 8, _mm256_fmadd_ps(_mm256_mul_ps(radius, s), std_v, mean_v));
}
int main() {
  long bad = 0, n = 0;
  for (int pass = 0; pass < 2; pass++)
  for (uint32_t k = 0; k < (1u << 24); k += 8) {
    float d[16], ref[16];
    for (int j = 0; j < 8; j++) {
      uint32_t a = k + j, b = (k * 7 + j * 977) & 0xffffff; // pass 0: every u1; pass 1: every u2
      d[j] = (float)(pass ? b : a) * 0x1p-24f;
      d[j + 8] = (float)(pass ? a : b) * 0x1p-24f;
    }
    memcpy(ref, d, sizeof d);
    block(ref, 0.1f, 0.3f);
    for (int j = 0; j < 8; j++) {
      float u1 = 1.0f - d[j], u2 = d[j + 8], s, c;
      float r = __builtin_sqrtf(-2.0f * nninit__torch_avx_logf(u1));
      nninit__torch_avx_sincosf((float)(2.0f * 3.141592653589793) * u2, &s, &c);
      float a = __builtin_fmaf(r * c, 0.3f, 0.1f), b = __builtin_fmaf(r * s, 0.3f, 0.1f);
      n += 2;
      if (memcmp(&a, &ref[j], 4)) bad++;
      if (memcmp(&b, &ref[j + 8], 4)) bad++;
    }
  }
  printf("ATen avx_mathfun.h as compiled here vs nninit port: %ld of %ld outputs differ\n", bad, n);
  return bad != 0;
}
