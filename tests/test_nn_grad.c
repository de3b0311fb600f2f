/* Gradient checks: every activation, loss and layer's analytic float32
 * backward against central differences of an independent double-precision
 * forward written here from the formulas.
 * Tolerances: tests/gradcheck.h. */
#include "gradcheck.h"

#include "nn/internal.h"

#define H GRAD_H

/* ---- double references ---- */

static double ref_act(nninit_act act, double alpha, double z)
{
    const double sa = 1.6732632423543772848170429916717, ss = 1.0507009873554804934193349852946;
    switch (act) {
    case NNINIT_ACT_LINEAR: return z;
    case NNINIT_ACT_RELU: return z > 0 ? z : 0;
    case NNINIT_ACT_LEAKY_RELU: return z >= 0 ? z : alpha * z;
    case NNINIT_ACT_ELU: return z > 0 ? z : alpha * (exp(z) - 1);
    case NNINIT_ACT_SELU: return ss * (z > 0 ? z : sa * (exp(z) - 1));
    case NNINIT_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    case NNINIT_ACT_GELU_TANH: return 0.5 * z * (1 + tanh(sqrt(2.0 / 3.14159265358979323846) * (z + 0.044715 * z * z * z)));
    case NNINIT_ACT_SWISH: return z / (1 + exp(-z));
    case NNINIT_ACT_TANH: return tanh(z);
    case NNINIT_ACT_SIGMOID: return 1 / (1 + exp(-z));
    default: return NAN;
    }
}

/* softmax of a row, in double */
static void ref_softmax(const double *z, double *a, int n)
{
    double mx = z[0], s = 0;
    for (int j = 1; j < n; j++)
        mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < n; j++)
        s += exp(z[j] - mx);
    for (int j = 0; j < n; j++)
        a[j] = exp(z[j] - mx) / s;
}

static uint64_t lcg_state = 12345;
static double urand(void) { return grad_urand(&lcg_state); }
#define check_grad grad_check

/* ---- activations ---- */

static void test_activations(void **state)
{
    (void)state;
    enum { ROWS = 3, N = 7 };
    /* every activation, then leaky_relu and elu again with a negative
     * parameter (nninit_act_parse accepts one, as torch does) */
    for (int k = 0; k < NNINIT_ACT_COUNT + 2; k++) {
        nninit_act act = k < NNINIT_ACT_COUNT ? (nninit_act)k
                         : k == NNINIT_ACT_COUNT ? NNINIT_ACT_LEAKY_RELU : NNINIT_ACT_ELU;
        double alpha = act == NNINIT_ACT_LEAKY_RELU ? 0.13 : act == NNINIT_ACT_ELU ? 0.7 : 0.0;
        if (k >= NNINIT_ACT_COUNT)
            alpha = -2.0 * alpha;
        float z[ROWS * N], a[ROWS * N], da[ROWS * N], dz[ROWS * N];
        double zd[ROWS * N], dad[ROWS * N], an[ROWS * N], num[ROWS * N];
        for (int i = 0; i < ROWS * N; i++) {
            /* 3 * urand, kept 0.05 away from the kink at 0 of relu/leaky/elu/selu */
            double v = 3.0 * urand();
            if (fabs(v) < 0.05)
                v = v < 0 ? -0.05 - fabs(v) : 0.05 + v;
            z[i] = (float)v;
            zd[i] = z[i];
            da[i] = (float)urand();
            dad[i] = da[i];
        }
        nninit_act_forward(act, alpha, z, a, ROWS, N);
        nninit_act_backward(act, alpha, z, a, da, dz, ROWS, N);
        for (int i = 0; i < ROWS * N; i++)
            an[i] = dz[i];
        /* forward matches the double formula to float precision */
        for (int r = 0; r < ROWS; r++) {
            double ref[N];
            if (act == NNINIT_ACT_SOFTMAX)
                ref_softmax(zd + r * N, ref, N);
            else
                for (int j = 0; j < N; j++)
                    ref[j] = ref_act(act, alpha, zd[r * N + j]);
            for (int j = 0; j < N; j++)
                assert_close(a[r * N + j], ref[j], 4e-6 * fmax(1.0, fabs(ref[j])));
        }
        /* numeric d/dz of L = sum da * act(z) */
        for (int i = 0; i < ROWS * N; i++) {
            int r = i / N;
            double lp = 0, lm = 0;
            double zp[N], zm[N], ap[N], am[N];
            for (int j = 0; j < N; j++)
                zp[j] = zm[j] = zd[r * N + j];
            zp[i % N] += H;
            zm[i % N] -= H;
            if (act == NNINIT_ACT_SOFTMAX) {
                ref_softmax(zp, ap, N);
                ref_softmax(zm, am, N);
            } else {
                for (int j = 0; j < N; j++) {
                    ap[j] = ref_act(act, alpha, zp[j]);
                    am[j] = ref_act(act, alpha, zm[j]);
                }
            }
            for (int j = 0; j < N; j++) {
                lp += dad[r * N + j] * ap[j];
                lm += dad[r * N + j] * am[j];
            }
            num[i] = (lp - lm) / (2 * H);
        }
        check_grad(nninit_act_name(act), an, num, ROWS * N);
    }
}

static void test_act_parse(void **state)
{
    (void)state;
    nninit_act a;
    double al;
    nninit_err err;
    assert_ok(nninit_act_parse("silu", &a, &al, &err), &err);
    assert_int_equal(a, NNINIT_ACT_SWISH);
    assert_ok(nninit_act_parse("leaky_relu", &a, &al, &err), &err);
    assert_close(al, 0.2, 0); /* keras.activations.leaky_relu's negative_slope */
    assert_ok(nninit_act_parse("leaky_relu(0.01)", &a, &al, &err), &err);
    assert_close(al, 0.01, 0);
    assert_ok(nninit_act_parse("elu(alpha=0.5)", &a, &al, &err), &err);
    assert_close(al, 0.5, 0);
    assert_int_equal(nninit_act_parse("rleu", &a, &al, &err), NNINIT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "did you mean 'relu'"));
    assert_int_equal(nninit_act_parse("relu(2)", &a, &al, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_act_parse("elu(x)", &a, &al, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_act_parse("elu(1", &a, &al, &err), NNINIT_EINVAL);
    for (int k = 0; k < NNINIT_ACT_COUNT; k++) {
        assert_ok(nninit_act_parse(nninit_act_name((nninit_act)k), &a, &al, &err), &err);
        assert_int_equal(a, k);
    }
}

/* ---- losses ---- */

static void test_losses(void **state)
{
    (void)state;
    enum { B = 4, N = 5 };
    float out[B * N], dout[B * N], tgt[B * N];
    int32_t lab[B] = {0, 3, 4, 1};
    for (int i = 0; i < B * N; i++) {
        out[i] = (float)(2.0 * urand());
        tgt[i] = (float)urand();
    }
    for (int kind = 0; kind < 2; kind++) {
        for (int use_t = 0; use_t < (kind == NNINIT_LOSS_MSE ? 2 : 1); use_t++) {
            nninit_err err;
            double loss;
            const float *t = use_t ? tgt : NULL;
            assert_ok(nninit_loss((nninit_loss_kind)kind, out, B, N, lab, t, &loss, dout, &err), &err);
            double an[B * N], num[B * N];
            for (int i = 0; i < B * N; i++)
                an[i] = dout[i];
            for (int i = 0; i < B * N; i++) {
                double l[2];
                for (int sgn = 0; sgn < 2; sgn++) {
                    double o[B * N];
                    for (int j = 0; j < B * N; j++)
                        o[j] = out[j];
                    o[i] += sgn ? -H : H;
                    double s = 0;
                    for (int r = 0; r < B; r++) {
                        if (kind == NNINIT_LOSS_SOFTMAX_CE) {
                            double p[N];
                            ref_softmax(o + r * N, p, N);
                            s += -log(p[lab[r]]);
                        } else {
                            for (int j = 0; j < N; j++) {
                                double tt = t ? (double)t[r * N + j] : (lab[r] == j ? 1.0 : 0.0);
                                s += (o[r * N + j] - tt) * (o[r * N + j] - tt);
                            }
                        }
                    }
                    l[sgn] = kind == NNINIT_LOSS_SOFTMAX_CE ? s / B : s / (B * N);
                }
                num[i] = (l[0] - l[1]) / (2 * H);
                if (i == 0) {
                    /* the loss value itself, at the unperturbed point (mean of the two within h^2) */
                    assert_close(loss, 0.5 * (l[0] + l[1]), 1e-6 * fmax(1.0, loss));
                }
            }
            check_grad(nninit_loss_name((nninit_loss_kind)kind), an, num, B * N);
        }
    }
    /* a label out of range is an error, not a read out of bounds */
    nninit_err err;
    double loss;
    int32_t bad[B] = {0, 5, 0, 0};
    assert_int_equal(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, B, N, bad, NULL, &loss, dout, &err), NNINIT_EINVAL);
    /* hand value: logits (0, ln 3) with label 1 -> -log(3/4) */
    float two[2] = {0.0f, (float)log(3.0)};
    int32_t one = 1;
    assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, two, 1, 2, &one, NULL, &loss, NULL, &err), &err);
    assert_close(loss, -log(0.75), 1e-7);
}

/* ---- a whole network: dense, batch norm, activation layer, dropout ---- */

enum { NB = 6, NI = 5, NH = 7, NO = 4 };

typedef struct ref_params {
    double w1[NI * NH], b1[NH], gamma[NH], beta[NH], w2[NH * NO], b2[NO];
    double mask[NB * NH];
} ref_params;

/* loss of: dense(tanh) -> BN (batch statistics) -> gelu -> dropout(mask) -> dense -> softmax CE */
static double ref_net_loss(const ref_params *p, const double *x, const int32_t *lab)
{
    double h[NB * NH], y[NB * NO];
    for (int r = 0; r < NB; r++)
        for (int j = 0; j < NH; j++) {
            double s = p->b1[j];
            for (int i = 0; i < NI; i++)
                s += x[r * NI + i] * p->w1[i * NH + j];
            h[r * NH + j] = tanh(s);
        }
    for (int j = 0; j < NH; j++) {
        double m = 0, v = 0;
        for (int r = 0; r < NB; r++)
            m += h[r * NH + j];
        m /= NB;
        for (int r = 0; r < NB; r++)
            v += (h[r * NH + j] - m) * (h[r * NH + j] - m);
        v /= NB; /* biased, as Keras' moments */
        for (int r = 0; r < NB; r++) {
            double xh = (h[r * NH + j] - m) / sqrt(v + 1e-3);
            double bn = p->gamma[j] * xh + p->beta[j];
            h[r * NH + j] = ref_act(NNINIT_ACT_GELU, 0, bn) * p->mask[r * NH + j];
        }
    }
    double loss = 0;
    for (int r = 0; r < NB; r++) {
        for (int k = 0; k < NO; k++) {
            double s = p->b2[k];
            for (int j = 0; j < NH; j++)
                s += h[r * NH + j] * p->w2[j * NO + k];
            y[r * NO + k] = s;
        }
        double pr[NO];
        ref_softmax(y + r * NO, pr, NO);
        loss -= log(pr[lab[r]]);
    }
    return loss / NB;
}

static void test_network(void **state)
{
    (void)state;
    nninit_layer_desc L[5];
    L[0] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[0].units = NH;
    L[0].act = NNINIT_ACT_TANH;
    strcpy(L[0].bias_init, "RandomUniform(minval=-0.5, maxval=0.5)"); /* a zero bias would hide bias bugs */
    L[1] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
    strcpy(L[1].gamma_init, "RandomUniform(minval=0.5, maxval=1.5)");
    strcpy(L[1].beta_init, "RandomUniform(minval=-0.5, maxval=0.5)");
    L[2] = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
    L[2].act = NNINIT_ACT_GELU;
    L[3] = nninit_layer_desc_default(NNINIT_LAYER_DROPOUT);
    L[3].rate = 0.3;
    L[4] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[4].units = NO;
    strcpy(L[4].kernel_init, "he_normal");
    strcpy(L[4].bias_init, "RandomUniform(minval=-0.5, maxval=0.5)");
    nninit_net *net = NULL;
    nninit_err err;
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = 7;
    assert_ok(nninit_net_new(NI, L, 5, &no, &net, &err), &err);
    assert_int_equal(nninit_net_n_params(net), NI * NH + NH + 2 * NH + NH * NO + NO);

    float x[NB * NI], dout[NB * NO];
    double xd[NB * NI];
    int32_t lab[NB] = {0, 1, 2, 3, 1, 2};
    for (int i = 0; i < NB * NI; i++) {
        x[i] = (float)(1.5 * urand());
        xd[i] = x[i];
    }
    const float *out;
    double loss;
    assert_ok(nninit_net_forward(net, x, NB, 1, &out, &err), &err);
    assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, NB, NO, lab, NULL, &loss, dout, &err), &err);
    assert_ok(nninit_net_backward(net, dout, 1, &err), &err);

    /* copy the parameters and the dropout mask the forward drew into the double reference */
    ref_params p;
    float *v[6], *g[6];
    int idx = 0;
    int layer_of[6] = {0, 0, 1, 1, 4, 4}, which_of[6] = {0, 1, 0, 1, 0, 1};
    double *dst[6] = {p.w1, p.b1, p.gamma, p.beta, p.w2, p.b2};
    int64_t cnt[6] = {NI * NH, NH, NH, NH, NH * NO, NO};
    for (idx = 0; idx < 6; idx++) {
        assert_ok(nninit_net_param(net, layer_of[idx], which_of[idx], &v[idx], &g[idx], NULL, NULL, &err), &err);
        for (int64_t i = 0; i < cnt[idx]; i++)
            dst[idx][i] = v[idx][i];
    }
    int dropped = 0;
    for (int i = 0; i < NB * NH; i++) {
        p.mask[i] = net->layers[3].z[i];
        dropped += p.mask[i] == 0.0;
        assert_true(p.mask[i] == 0.0 || fabs(p.mask[i] - 1.0 / 0.7) < 1e-6);
    }
    assert_true(dropped > 0 && dropped < NB * NH); /* the mask really masks something */
    assert_close(loss, ref_net_loss(&p, xd, lab), 2e-5);

    /* every parameter */
    const char *names[6] = {"dense_0/kernel", "dense_0/bias", "bn/gamma", "bn/beta", "dense_1/kernel", "dense_1/bias"};
    for (idx = 0; idx < 6; idx++) {
        double an[NI * NH + NH * NO], num[NI * NH + NH * NO];
        for (int64_t i = 0; i < cnt[idx]; i++) {
            double keep = dst[idx][i];
            dst[idx][i] = keep + H;
            double lp = ref_net_loss(&p, xd, lab);
            dst[idx][i] = keep - H;
            double lm = ref_net_loss(&p, xd, lab);
            dst[idx][i] = keep;
            num[i] = (lp - lm) / (2 * H);
            an[i] = g[idx][i];
        }
        check_grad(names[idx], an, num, (int)cnt[idx]);
    }
    /* the input gradient */
    int64_t rows, cols;
    const float *gx = nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, &rows, &cols);
    assert_non_null(gx);
    assert_int_equal(rows, NB);
    assert_int_equal(cols, NI);
    double an[NB * NI], num[NB * NI];
    for (int i = 0; i < NB * NI; i++) {
        double keep = xd[i];
        xd[i] = keep + H;
        double lp = ref_net_loss(&p, xd, lab);
        xd[i] = keep - H;
        double lm = ref_net_loss(&p, xd, lab);
        xd[i] = keep;
        num[i] = (lp - lm) / (2 * H);
        an[i] = gx[i];
    }
    check_grad("input", an, num, NB * NI);
    nninit_net_free(net);
}

/* Evaluation-mode batch norm is a fixed affine map: its backward must not
 * couple the rows. */
static void test_bn_eval_backward(void **state)
{
    (void)state;
    nninit_layer_desc L[2];
    L[0] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
    strcpy(L[0].gamma_init, "RandomUniform(minval=0.5, maxval=1.5)");
    L[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[1].units = 2;
    nninit_net *net;
    nninit_err err;
    assert_ok(nninit_net_new(3, L, 2, NULL, &net, &err), &err);
    /* set running statistics by hand */
    for (int j = 0; j < 3; j++) {
        net->layers[0].run_mean[j] = 0.1f * (float)j;
        net->layers[0].run_var[j] = 0.5f + (float)j;
    }
    float x[4 * 3], dout[4 * 2];
    for (int i = 0; i < 12; i++)
        x[i] = (float)urand();
    for (int i = 0; i < 8; i++)
        dout[i] = (float)urand();
    assert_ok(nninit_net_forward(net, x, 4, 0, NULL, &err), &err);
    assert_ok(nninit_net_backward(net, dout, 1, &err), &err);
    const float *gx = nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, NULL, NULL);
    float *gamma, *w;
    assert_ok(nninit_net_param(net, 0, 0, &gamma, NULL, NULL, NULL, &err), &err);
    assert_ok(nninit_net_param(net, 1, 0, &w, NULL, NULL, NULL, &err), &err);
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 3; j++) {
            double gy = (double)dout[r * 2] * (double)w[j * 2] + (double)dout[r * 2 + 1] * (double)w[j * 2 + 1];
            double expect = gy * (double)gamma[j] / sqrt(0.5 + j + 1e-3);
            assert_close(gx[r * 3 + j], expect, 1e-5);
        }
    nninit_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_act_parse),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_network),
        cmocka_unit_test(test_bn_eval_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
