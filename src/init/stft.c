/*
 * keras.initializers.STFT (keras/src/initializers/constant_initializers.py):
 * kernel[t, c, f] = trig(-2 t f / (2 (F - 1)) * pi) * w[t] / scale for a
 * (T, C, F) shape, trig = cos ("real") or sin ("imag"), w the scipy window
 * of length T (symmetric, or periodic = the first T of a T+1 window), scale
 * sqrt(sum w^2) ("density"), sum |w| ("spectrum") or 1. Keras builds the
 * (T, 1, F) kernel; nninit repeats it over the C input channels. The
 * argument is formed in the output precision as Keras does in its dtype.
 * A window may also be given as its T values (Keras' array_like window).
 */
#include "init/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every window of scipy.signal.get_window (scipy 1.10 windows.py) that
 * nninit computes, with scipy's aliases and parameter counts. */
static const struct window_def {
    const char *name;
    const char *aliases[5];
    int min_params, max_params; /* after the name: ("kaiser", beta) */
    double dflt[2];
} WINDOWS[NNINIT_WINDOW_COUNT] = {
    [NNINIT_WINDOW_NONE] = {"none", {NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_HANN] = {"hann", {"han", "hanning", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_HAMMING] = {"hamming", {"ham", "hamm", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_BLACKMAN] = {"blackman", {"black", "blk", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_BLACKMANHARRIS] = {"blackmanharris", {"blackharr", "bkh", "blackmanharr", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_NUTTALL] = {"nuttall", {"nut", "nutl", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_FLATTOP] = {"flattop", {"flat", "flt", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_BARTLETT] = {"bartlett", {"bart", "brt", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_TRIANG] = {"triang", {"tri", "triangle", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_BOXCAR] = {"boxcar", {"box", "ones", "rect", "rectangular", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_COSINE] = {"cosine", {"halfcosine", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_BARTHANN] = {"barthann", {"brthan", "bth", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_BOHMAN] = {"bohman", {"bman", "bmn", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_PARZEN] = {"parzen", {"par", "parz", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_LANCZOS] = {"lanczos", {"sinc", NULL}, 0, 0, {0, 0}},
    [NNINIT_WINDOW_TUKEY] = {"tukey", {"tuk", NULL}, 0, 1, {0.5, 0}},
    [NNINIT_WINDOW_EXPONENTIAL] = {"exponential", {"poisson", NULL}, 0, 2, {0, 1.0}},
    [NNINIT_WINDOW_TAYLOR] = {"taylor", {"taylorwin", NULL}, 0, 2, {4, 30}},
    [NNINIT_WINDOW_GAUSSIAN] = {"gaussian", {"gauss", "gss", NULL}, 1, 1, {0, 0}},
    [NNINIT_WINDOW_GENERAL_GAUSSIAN] = {"general_gaussian",
                                        {"general gaussian", "general_gauss", "general gauss", "ggs", NULL}, 2, 2,
                                        {0, 0}},
    [NNINIT_WINDOW_KAISER] = {"kaiser", {"ksr", NULL}, 1, 1, {0, 0}},
    [NNINIT_WINDOW_GENERAL_HAMMING] = {"general_hamming", {"general hamming", NULL}, 1, 1, {0, 0}},
    [NNINIT_WINDOW_VALUES] = {"(values)", {NULL}, 0, 0, {0, 0}}, /* never parsed as a name */
};

const char *nninit__stft_window_name(int w)
{
    return w >= 0 && w < NNINIT_WINDOW_COUNT ? WINDOWS[w].name : "?";
}

int nninit__stft_window_parse(const char *name)
{
    for (int i = 1; i < NNINIT_WINDOW_VALUES; i++) {
        if (!strcmp(name, WINDOWS[i].name))
            return i;
        for (int k = 0; WINDOWS[i].aliases[k]; k++)
            if (!strcmp(name, WINDOWS[i].aliases[k]))
                return i;
    }
    return -1;
}

int nninit__stft_window_min_params(int w)
{
    return w >= 0 && w < NNINIT_WINDOW_COUNT ? WINDOWS[w].min_params : 0;
}

#define KAISER_MAX_BETA 700.0

nninit_status nninit__stft_window_check(const nninit_init *in, nninit_err *err)
{
    int w = in->stft_window, n = in->stft_n_window_params;
    if (w < 0 || w >= NNINIT_WINDOW_COUNT)
        return nninit__err(err, NNINIT_EINVAL, "stft: window %d is not in the catalogue", w);
    if (w == NNINIT_WINDOW_VALUES) { /* Keras: ops.convert_to_tensor(window), then len == frame_length */
        if (!in->stft_window_values || in->stft_window_len < 1 || in->stft_window_len > NNINIT_STFT_MAX_WINDOW_VALUES)
            return nninit__err(err, NNINIT_EINVAL, "stft: a window of values needs 1 to %d of them; got %lld",
                               NNINIT_STFT_MAX_WINDOW_VALUES, (long long)in->stft_window_len);
        for (int64_t i = 0; i < in->stft_window_len; i++)
            if (!isfinite(in->stft_window_values[i]))
                return nninit__err(err, NNINIT_EINVAL, "stft: window value %lld is %g; every value must be finite "
                                   "(Keras would fill the kernel with it)", (long long)i,
                                   in->stft_window_values[i]);
        return NNINIT_OK;
    }
    const struct window_def *d = &WINDOWS[w];
    if (n < d->min_params || n > d->max_params) {
        if (d->max_params == 0)
            return nninit__err(err, NNINIT_EINVAL, "stft: window '%s' takes no parameters", d->name);
        return nninit__err(err, NNINIT_EINVAL, "stft: window '%s' takes %d to %d parameters, as in (\"%s\", %s); got %d",
                           d->name, d->min_params, d->max_params, d->name,
                           w == NNINIT_WINDOW_KAISER ? "8.0" : w == NNINIT_WINDOW_GENERAL_GAUSSIAN ? "1.5, 7.0"
                                                                                                 : "0.5", n);
    }
    for (int i = 0; i < n; i++)
        if (!isfinite(in->stft_window_params[i]))
            return nninit__err(err, NNINIT_EINVAL, "stft: window '%s' parameter %d is not finite", d->name, i + 1);
    const double *p = in->stft_window_params;
    if ((w == NNINIT_WINDOW_GAUSSIAN && !(p[0] > 0)) || (w == NNINIT_WINDOW_GENERAL_GAUSSIAN && !(p[1] > 0)) ||
        (w == NNINIT_WINDOW_EXPONENTIAL && n == 2 && !(p[1] > 0)))
        return nninit__err(err, NNINIT_EINVAL, "stft: window '%s': the width parameter must be > 0", d->name);
    /* scipy's I0(beta) overflows from |beta| 713 on (its window is then NaN); ours
     * a little later; refuse before either, as any parameter giving NaN values */
    if (w == NNINIT_WINDOW_KAISER && !(fabs(p[0]) <= KAISER_MAX_BETA))
        return nninit__err(err, NNINIT_EINVAL, "stft: window 'kaiser': beta %g; I0(beta) overflows a double beyond "
                           "about 713 (scipy's window is NaN there); use |beta| <= %g", p[0], KAISER_MAX_BETA);
    if (w == NNINIT_WINDOW_TAYLOR && n >= 1 && (p[0] < 1 || p[0] > 1000 || p[0] != floor(p[0])))
        return nninit__err(err, NNINIT_EINVAL, "stft: window 'taylor': nbar must be an integer in [1, 1000]");
    return NNINIT_OK;
}

static double param_or_default(const nninit_init *in, int i)
{
    return i < in->stft_n_window_params ? in->stft_window_params[i] : WINDOWS[in->stft_window].dflt[i];
}

/* I0, the modified Bessel function of order 0 (numpy.i0 / scipy.special.i0):
 * its power series sum_k ((x/2)^k / k!)^2, summed until terms stop counting;
 * the terms fall below 1e-17 of the sum long before rounding accumulates:
 * within 3e-15 of scipy.special.i0 for |x| <= 700 (measured at 50, 100, ...,
 * 700), the largest beta the window check lets through. */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 500; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

static double sinc(double x) /* numpy.sinc: sin(pi x) / (pi x) */
{
    const double pi = 3.14159265358979323846;
    return x == 0 ? 1.0 : sin(pi * x) / (pi * x);
}

/* scipy.signal.windows, symmetric form of length m (m >= 1). */
static void window_sym(const nninit_init *in, int64_t m, double *w)
{
    const int kind = in->stft_window;
    static const double HANN[] = {0.5, 0.5}, HAMMING[] = {0.54, 0.46}, BLACKMAN[] = {0.42, 0.50, 0.08},
                        BH[] = {0.35875, 0.48829, 0.14128, 0.01168},
                        NUTTALL[] = {0.3635819, 0.4891775, 0.1365995, 0.0106411},
                        FLATTOP[] = {0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368};
    double GH[2];
    const double *a = NULL;
    int na = 0;
    switch (kind) {
    case NNINIT_WINDOW_HANN: a = HANN, na = 2; break;
    case NNINIT_WINDOW_HAMMING: a = HAMMING, na = 2; break;
    case NNINIT_WINDOW_BLACKMAN: a = BLACKMAN, na = 3; break;
    case NNINIT_WINDOW_BLACKMANHARRIS: a = BH, na = 4; break;
    case NNINIT_WINDOW_NUTTALL: a = NUTTALL, na = 4; break;
    case NNINIT_WINDOW_FLATTOP: a = FLATTOP, na = 5; break;
    case NNINIT_WINDOW_GENERAL_HAMMING: /* general_cosine(M, [alpha, 1 - alpha]) */
        GH[0] = in->stft_window_params[0];
        GH[1] = 1.0 - GH[0];
        a = GH, na = 2;
        break;
    case NNINIT_WINDOW_TUKEY:
        if (param_or_default(in, 0) >= 1.0) /* scipy: alpha >= 1 is hann */
            a = HANN, na = 2;
        break;
    default: break;
    }
    if (m == 1) { /* scipy's _len_guards */
        w[0] = 1.0;
        return;
    }
    const double pi = 3.14159265358979323846;
    const double M = (double)m, half = (M - 1.0) / 2.0;
    /* taylor's coefficients Fm (nbar - 1 of them) */
    double Fm[1000];
    int nbar = 0;
    if (kind == NNINIT_WINDOW_TAYLOR) {
        nbar = (int)param_or_default(in, 0);
        double B = pow(10.0, param_or_default(in, 1) / 20.0), A = acosh(B) / pi;
        double s2 = (double)nbar * nbar / (A * A + (nbar - 0.5) * (nbar - 0.5));
        for (int mi = 1; mi < nbar; mi++) {
            double m2 = (double)mi * mi, numer = (mi % 2 ? 1.0 : -1.0), denom = 2.0;
            for (int j = 1; j < nbar; j++)
                numer *= 1.0 - m2 / s2 / (A * A + (j - 0.5) * (j - 0.5));
            for (int j = 1; j < nbar; j++)
                if (j != mi)
                    denom *= 1.0 - m2 / ((double)j * j);
            Fm[mi - 1] = numer / denom;
        }
    }
    for (int64_t i = 0; i < m; i++) {
        const double n = (double)i;
        double v = 1.0;
        if (a) { /* general_cosine: sum_k (-1)^k a_k cos(k x), x from -pi to pi */
            double x = -pi + 2.0 * pi * n / (M - 1.0);
            v = 0;
            for (int k = 0; k < na; k++)
                v += a[k] * cos(k * x);
        } else {
            switch (kind) {
            case NNINIT_WINDOW_BARTLETT: {
                double r = 2.0 * n / (M - 1.0);
                v = n <= half ? r : 2.0 - r;
                break;
            }
            case NNINIT_WINDOW_TRIANG: {
                int64_t h = (m + 1) / 2, k = i < h ? i + 1 : m - i; /* 1-based distance to the nearer end */
                v = m % 2 == 0 ? (2.0 * (double)k - 1.0) / M : 2.0 * (double)k / (M + 1.0);
                break;
            }
            case NNINIT_WINDOW_COSINE: v = sin(pi / M * (n + 0.5)); break;
            case NNINIT_WINDOW_BARTHANN: {
                double fac = fabs(n / (M - 1.0) - 0.5);
                v = 0.62 - 0.48 * fac + 0.38 * cos(2 * pi * fac);
                break;
            }
            case NNINIT_WINDOW_BOHMAN: { /* fac = |linspace(-1, 1, M)|, ends exactly 0 */
                double fac = fabs(-1.0 + 2.0 * n / (M - 1.0));
                v = i == 0 || i == m - 1 ? 0.0 : (1 - fac) * cos(pi * fac) + 1.0 / pi * sin(pi * fac);
                break;
            }
            case NNINIT_WINDOW_PARZEN: {
                double x = -half + n, ax = fabs(x), r = ax / (M / 2.0);
                v = ax > (M - 1) / 4.0 ? 2 * pow(1 - r, 3.0) : 1 - 6 * pow(r, 2.0) + 6 * pow(r, 3.0);
                break;
            }
            case NNINIT_WINDOW_LANCZOS: /* symmetric by construction in scipy: sinc(2 |n - half| / (M - 1)) */
                v = sinc(2.0 * fabs(n - half) / (M - 1.0));
                break;
            case NNINIT_WINDOW_TUKEY: {
                double alpha = param_or_default(in, 0);
                if (alpha <= 0)
                    break;
                int64_t width = (int64_t)floor(alpha * (M - 1) / 2.0);
                if (i <= width)
                    v = 0.5 * (1 + cos(pi * (-1 + 2.0 * n / alpha / (M - 1))));
                else if (i >= m - width - 1)
                    v = 0.5 * (1 + cos(pi * (-2.0 / alpha + 1 + 2.0 * n / alpha / (M - 1))));
                break;
            }
            case NNINIT_WINDOW_EXPONENTIAL: v = exp(-fabs(n - half) / param_or_default(in, 1)); break;
            case NNINIT_WINDOW_TAYLOR: {
                double s = 0, c = 0; /* W(n) and W((M-1)/2) for norm=True */
                for (int k = 1; k < nbar; k++) {
                    s += Fm[k - 1] * cos(2 * pi * k * (n - M / 2. + 0.5) / M);
                    c += Fm[k - 1] * cos(2 * pi * k * ((M - 1) / 2.0 - M / 2. + 0.5) / M);
                }
                v = (1 + 2 * s) * (1.0 / (1 + 2 * c));
                break;
            }
            case NNINIT_WINDOW_GAUSSIAN: {
                double std = in->stft_window_params[0], x = n - half;
                v = exp(-(x * x) / (2 * std * std));
                break;
            }
            case NNINIT_WINDOW_GENERAL_GAUSSIAN: {
                double p = in->stft_window_params[0], sig = in->stft_window_params[1];
                v = exp(-0.5 * pow(fabs((n - half) / sig), 2 * p));
                break;
            }
            case NNINIT_WINDOW_KAISER: {
                double beta = in->stft_window_params[0], r = (n - half) / half;
                v = bessel_i0(beta * sqrt(1 - pow(r, 2.0))) / bessel_i0(beta);
                break;
            }
            default: v = 1.0; break; /* boxcar */
            }
        }
        w[i] = v;
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
    if (in->stft_window == NNINIT_WINDOW_VALUES) {
        /* Keras: "The shape of `window` must be equal to [frame_length]" (periodic does not apply) */
        nninit_status s = nninit__stft_window_check(in, err);
        if (!s && in->stft_window_len != T)
            s = nninit__err(err, NNINIT_EINVAL, "stft: the window has %lld values but the frame length (the "
                            "kernel's first dimension) is %lld; Keras requires one value per frame sample",
                            (long long)in->stft_window_len, (long long)T);
        if (s) {
            free(w);
            return s;
        }
        memcpy(w, in->stft_window_values, (size_t)T * sizeof *w);
    } else if (in->stft_window != NNINIT_WINDOW_NONE) {
        /* periodic: the first T points of the symmetric window of length T + 1;
         * a window of length 1 is [1] whatever its kind (scipy's _len_guards) */
        window_sym(in, in->stft_periodic ? T + 1 : T, w);
        if (T == 1)
            w[0] = 1.0;
    }
    if (in->stft_window != NNINIT_WINDOW_NONE) {
        double s2 = 0, s1 = 0;
        int finite = 1;
        for (int64_t t = 0; t < T; t++) {
            double v = dtype == NNINIT_F32 ? (double)(float)w[t] : w[t]; /* Keras casts the window first */
            w[t] = v;
            s2 += v * v;
            s1 += fabs(v);
            finite &= isfinite(v) != 0;
        }
        scale = in->stft_scaling == 1 ? sqrt(s2) : in->stft_scaling == 2 ? s1 : 1.0;
        /* Keras divides by the scale as it is: a window of zeros (hann of length
         * 2, a gaussian far narrower than a sample) would make every value NaN */
        if (!finite || !(scale > 0) || !isfinite(scale)) {
            free(w);
            return nninit__err(err, NNINIT_EINVAL, "stft: the '%s' window of length %lld is %s, so its %s scaling "
                               "would make the kernel NaN; use a longer frame, other window values or "
                               "scaling=None", nninit__stft_window_name(in->stft_window), (long long)T,
                               finite ? "all zeros" : "not finite",
                               in->stft_scaling == 1 ? "density" : in->stft_scaling == 2 ? "spectrum" : "None");
        }
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

void nninit_init_clear(nninit_init *init)
{
    if (!init)
        return;
    if (init->stft_window_owned)
        free(init->stft_window_values);
    init->stft_window_values = NULL;
    init->stft_window_len = 0;
    init->stft_window_owned = 0;
}

nninit_status nninit_init_copy(nninit_init *dst, const nninit_init *src, nninit_err *err)
{
    if (!dst || !src)
        return nninit__err(err, NNINIT_EMISUSE, "nninit_init_copy: dst and src must not be NULL");
    *dst = *src;
    dst->stft_window_owned = 0;
    if (!src->stft_window_values)
        return NNINIT_OK;
    double *v = nninit__malloc_array((size_t)src->stft_window_len + 1, sizeof *v);
    if (!v) {
        dst->stft_window_values = NULL;
        dst->stft_window_len = 0;
        return nninit__err(err, NNINIT_ENOMEM, "out of memory for %lld window values", (long long)src->stft_window_len);
    }
    memcpy(v, src->stft_window_values, (size_t)src->stft_window_len * sizeof *v);
    dst->stft_window_values = v;
    dst->stft_window_owned = 1;
    return NNINIT_OK;
}
