// Checks nninit's calc_erfinv port (src/torch_kernels.c) against ATen's own
// native/Math.h (libtorch-dev 1.13.1 headers) compiled as each kernel variant
// is built: with -mavx2 -mfma (AVX2, GCC contracts the Horner steps) and
// without (DEFAULT), on 2^25 float32 and float64 arguments (a grid over
// (-1, 1) and the tails next to +-1). Not part of the build; run:
//   g++ -O2 -mavx2 -mfma -std=c++17 tools/check_erfinv.cpp build/libnninit.a -lm -o /tmp/e && /tmp/e 1
//   g++ -O2 -std=c++17 tools/check_erfinv.cpp build/libnninit.a -lm -o /tmp/e && /tmp/e
#include <ATen/native/Math.h>
#include <cstdio>
#include <cstring>
#include <cstdint>
extern "C" float nninit__torch_erfinvf(float y, int avx2);
extern "C" double nninit__torch_erfinv(double y, int avx2);
int main(int argc, char **argv) {
  int avx2 = argc > 1;
  long bf = 0, bd = 0, n = 0;
  uint64_t s = 88172645463325252ull;
  for (long i = 0; i < (1L << 25); i++) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    float y = (float)((s >> 40) & 0xffffff) * 0x1p-24f * 2.0f - 1.0f;   // uniform grid of (-1, 1)
    if (i & 1) y = (float)(1.0 - ((s >> 11) & 0xfffff) * 0x1p-40) * ((i & 2) ? -1.f : 1.f); // tails near +-1
    float a = calc_erfinv(y), b = nninit__torch_erfinvf(y, avx2);
    double yd = (double)((s >> 11)) * 0x1p-53 * 2 - 1;
    double c = calc_erfinv(yd), d = nninit__torch_erfinv(yd, avx2);
    bf += memcmp(&a, &b, 4) != 0; bd += memcmp(&c, &d, 8) != 0; n++;
  }
  printf("calc_erfinv as compiled here vs nninit (avx2=%d): float %ld, double %ld of %ld differ\n", avx2, bf, bd, n);
  return bf + bd != 0;
}
