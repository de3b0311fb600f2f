/*
 * keras.initializers.STFT (keras/src/initializers/constant_initializers.py):
 * kernel[t, c, f] = trig(-2 t f / (2 (F - 1)) * pi) * w[t] / scale for a
 * (T, C, F) shape, trig = cos ("real") or sin ("imag"), w the scipy window
 * of length T (symmetric, or periodic = the first T of a T+1 window), scale
 * sqrt(sum w^2) ("density"), sum |w| ("spectrum") or 1. Keras builds the
 * (T, 1, F) kernel; nninit repeats it over the C input channels. The
 * argument is formed in the output precision as Keras does in its dtype.
 */
#include "init/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *WINDOW_NAMES[] = {"none", "hann", "hamming", "blackman", "blackmanharris", "nuttall",
                                     "flattop", "bartlett", "triang", "boxcar", "cosine"};

const char *nninit__stft_window_name(int w)
{
    return w >= 0 && w <= NNINIT_WINDOW_COSINE ? WINDOW_NAMES[w] : "?";
}

int nninit__stft_window_parse(const char *name)
{
    for (int i = 1; i <= NNINIT_WINDOW_COSINE; i++)
        if (!strcmp(name, WINDOW_NAMES[i]))
            return i;
    /* scipy's aliases */
    if (!strcmp(name, "hanning") || !strcmp(name, "han"))
        return NNINIT_WINDOW_HANN;
    if (!strcmp(name, "hamm") || !strcmp(name, "ham"))
        return NNINIT_WINDOW_HAMMING;
    if (!strcmp(name, "black") || !strcmp(name, "blk"))
        return NNINIT_WINDOW_BLACKMAN;
    if (!strcmp(name, "blackmanharr") || !strcmp(name, "blackharr") || !strcmp(name, "bkh"))
        return NNINIT_WINDOW_BLACKMANHARRIS;
    if (!strcmp(name, "nutl") || !strcmp(name, "nut"))
        return NNINIT_WINDOW_NUTTALL;
    if (!strcmp(name, "flat") || !strcmp(name, "flt"))
        return NNINIT_WINDOW_FLATTOP;
    if (!strcmp(name, "bart") || !strcmp(name, "brt"))
        return NNINIT_WINDOW_BARTLETT;
    if (!strcmp(name, "tri"))
        return NNINIT_WINDOW_TRIANG;
    if (!strcmp(name, "box") || !strcmp(name, "ones") || !strcmp(name, "rect") || !strcmp(name, "rectangular"))
        return NNINIT_WINDOW_BOXCAR;
    if (!strcmp(name, "halfcosine"))
        return NNINIT_WINDOW_COSINE;
    return -1;
}

/* scipy.signal.windows, symmetric form of length m (m >= 1). */
static void window_sym(int kind, int64_t m, double *w)
{
    static const double HANN[] = {0.5, 0.5}, HAMMING[] = {0.54, 0.46}, BLACKMAN[] = {0.42, 0.50, 0.08},
                        BH[] = {0.35875, 0.48829, 0.14128, 0.01168},
                        NUTTALL[] = {0.3635819, 0.4891775, 0.1365995, 0.0106411},
                        FLATTOP[] = {0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368};
    const double *a = NULL;
    int na = 0;
    switch (kind) {
    case NNINIT_WINDOW_HANN: a = HANN, na = 2; break;
    case NNINIT_WINDOW_HAMMING: a = HAMMING, na = 2; break;
    case NNINIT_WINDOW_BLACKMAN: a = BLACKMAN, na = 3; break;
    case NNINIT_WINDOW_BLACKMANHARRIS: a = BH, na = 4; break;
    case NNINIT_WINDOW_NUTTALL: a = NUTTALL, na = 4; break;
    case NNINIT_WINDOW_FLATTOP: a = FLATTOP, na = 5; break;
    default: break;
    }
    if (m == 1) { /* scipy's _len_guards */
        w[0] = 1.0;
        return;
    }
    const double pi = 3.14159265358979323846;
    for (int64_t n = 0; n < m; n++) {
        if (a) { /* general_cosine: sum_k (-1)^k a_k cos(k x), x from -pi to pi */
            double x = -pi + 2.0 * pi * (double)n / (double)(m - 1), v = 0;
            for (int k = 0; k < na; k++)
                v += a[k] * cos(k * x);
            w[n] = v;
        } else if (kind == NNINIT_WINDOW_BARTLETT) {
            double r = 2.0 * (double)n / (double)(m - 1);
            w[n] = (double)n <= (double)(m - 1) / 2.0 ? r : 2.0 - r;
        } else if (kind == NNINIT_WINDOW_TRIANG) {
            int64_t half = (m + 1) / 2, k = n < half ? n + 1 : m - n; /* 1-based distance to the nearer end */
            w[n] = m % 2 == 0 ? (2.0 * (double)k - 1.0) / (double)m : 2.0 * (double)k / (double)(m + 1);
        } else if (kind == NNINIT_WINDOW_COSINE) {
            w[n] = sin(pi / (double)m * ((double)n + 0.5));
        } else {
            w[n] = 1.0; /* boxcar */
        }
    }
}

nninit_status nninit__stft_fill(const nninit_init *in, const nninit_shape *shape, nninit_dtype dtype, int64_t begin,
                                int64_t end, void *out, nninit_err *err)
{
    int64_t T = shape->dim[0], C = shape->dim[1], F = shape->dim[2];
    double *w = nninit__malloc_array((size_t)T + 1, sizeof *w);
    if (!w)
        return nninit__err(err, NNINIT_ENOMEM, "stft: out of memory for the window");
    double scale = 1.0;
    if (in->stft_window != NNINIT_WINDOW_NONE) {
        /* periodic: the first T points of the symmetric window of length T + 1 */
        window_sym(in->stft_window, in->stft_periodic ? T + 1 : T, w);
        double s2 = 0, s1 = 0;
        for (int64_t t = 0; t < T; t++) {
            double v = dtype == NNINIT_F32 ? (double)(float)w[t] : w[t]; /* Keras casts the window first */
            w[t] = v;
            s2 += v * v;
            s1 += fabs(v);
        }
        scale = in->stft_scaling == 1 ? sqrt(s2) : in->stft_scaling == 2 ? s1 : 1.0;
    }
    const int64_t fft = (F - 1) * 2;
    for (int64_t i = begin; i < end; i++) {
        int64_t f = i % F, t = i / (C * F);
        double v;
        if (dtype == NNINIT_F32) {
            float freq = (float)f / (float)fft, arg = (float)(-2 * t) * freq;
            arg = arg * (float)acos(-1.0);
            float k = (float)(in->stft_imag ? sin((double)arg) : cos((double)arg));
            if (in->stft_window != NNINIT_WINDOW_NONE)
                k = (k * (float)w[t]) / (float)scale;
            ((float *)out)[i - begin] = k;
        } else {
            double freq = (double)f / (double)fft, arg = (double)(-2 * t) * freq;
            arg = arg * acos(-1.0);
            v = in->stft_imag ? sin(arg) : cos(arg);
            if (in->stft_window != NNINIT_WINDOW_NONE)
                v = (v * w[t]) / scale;
            ((double *)out)[i - begin] = v;
        }
    }
    free(w);
    return NNINIT_OK;
}
