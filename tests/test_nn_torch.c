/* The engine against PyTorch 1.13 (tests/fixtures/nn/torch_nn.txt, made by
 * tests/fixtures/make_nn_fixtures.py): activation values and gradients, three
 * SGD (momentum, Nesterov, weight decay) and Adam steps of an MLP, the plain
 * momentum steps nninit_train folds into the weight-gradient product, and the
 * gradients of a batch-norm network.
 *
 * Tolerances: both sides compute in float32 with O(1) values, but in other
 * orders and with other libm/SIMD routines, so single results differ by a few
 * float ulps: the largest differences measured were 2.4e-7 (gelu), 1.2e-7
 * (selu) and 2.2e-7 (Adam weights after three steps). 2e-6 absolute leaves
 * ~10x room and is still 500x below a formula error (a wrong momentum, decay
 * or bias correction moves these weights by >= 1e-3). */
#include "util.h"

#include "nn/internal.h" /* nninit__net_backward_step: the training loop's step */

#define MAX_T 96

typedef struct tensor {
    char name[32];
    int n;
    double *v;
} tensor;

static tensor T[MAX_T];
static int n_t;

static int load(void **state)
{
    (void)state;
    char path[512];
    FILE *f = fopen(test_fixture("nn/torch_nn.txt", path, sizeof path), "r");
    if (!f)
        return -1;
    char line[65536];
    while (fgets(line, sizeof line, f) && n_t < MAX_T) {
        if (line[0] == '#')
            continue;
        char *p = line;
        int used = 0;
        if (sscanf(p, "%31s %d%n", T[n_t].name, &T[n_t].n, &used) != 2)
            continue;
        p += used;
        T[n_t].v = malloc((size_t)T[n_t].n * sizeof(double));
        for (int i = 0; i < T[n_t].n; i++)
            T[n_t].v[i] = strtod(p, &p);
        n_t++;
    }
    fclose(f);
    return n_t > 0 ? 0 : -1;
}

static int unload(void **state)
{
    (void)state;
    for (int i = 0; i < n_t; i++)
        free(T[i].v);
    return 0;
}

static const tensor *get(const char *name)
{
    for (int i = 0; i < n_t; i++)
        if (!strcmp(T[i].name, name))
            return &T[i];
    print_error("fixture has no tensor '%s'\n", name);
    fail();
    return NULL;
}

static void to_float(const tensor *t, float *out)
{
    for (int i = 0; i < t->n; i++)
        out[i] = (float)t->v[i];
}

static void expect(const char *what, const float *got, const tensor *want, double tol)
{
    for (int i = 0; i < want->n; i++)
        if (!(fabs((double)got[i] - want->v[i]) <= tol)) {
            print_error("%s[%d]: nninit %.9g, torch %.9g, tol %.3g\n", what, i, (double)got[i], want->v[i], tol);
            fail();
        }
}

static void test_activations_vs_torch(void **state)
{
    (void)state;
    const tensor *tz = get("act_z"), *tda = get("act_da");
    float z[24], da[24], a[24], dz[24];
    to_float(tz, z);
    to_float(tda, da);
    const char *names[] = {"relu", "leaky_relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "softmax"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        nninit_act act;
        double alpha;
        nninit_err err;
        assert_ok(nninit_act_parse(names[k], &act, &alpha, &err), &err);
        nninit_act_forward(act, alpha, z, a, 4, 6);
        nninit_act_backward(act, alpha, z, a, da, dz, 4, 6);
        char key[64];
        snprintf(key, sizeof key, "act_%s_out", names[k]);
        expect(key, a, get(key), 2e-6);
        snprintf(key, sizeof key, "act_%s_grad", names[k]);
        expect(key, dz, get(key), 2e-6);
    }
}

/* dense(5 -> 6, relu) -> dense(6 -> 3), parameters from the fixture */
static nninit_net *mlp(const char *prefix_w, int bn)
{
    nninit_layer_desc L[4];
    int n = 0;
    L[n] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[n].units = 6;
    L[n++].act = bn ? NNINIT_ACT_LINEAR : NNINIT_ACT_RELU;
    if (bn) {
        L[n++] = nninit_layer_desc_default(NNINIT_LAYER_BATCHNORM);
        L[n] = nninit_layer_desc_default(NNINIT_LAYER_ACTIVATION);
        L[n++].act = NNINIT_ACT_TANH;
    }
    L[n] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[n++].units = 3;
    nninit_net *net;
    nninit_err err;
    assert_ok(nninit_net_new(5, L, n, NULL, &net, &err), &err);
    char key[64];
    const char *pn[6] = {"w0", "b0", "gamma", "beta", "w1", "b1"};
    int layer[6] = {0, 0, 1, 1, bn ? 3 : 1, bn ? 3 : 1}, which[6] = {0, 1, 0, 1, 0, 1};
    for (int i = 0; i < 6; i++) {
        if (!bn && (i == 2 || i == 3))
            continue;
        float *v;
        assert_ok(nninit_net_param(net, layer[i], which[i], &v, NULL, NULL, NULL, &err), &err);
        snprintf(key, sizeof key, "%s_%s", prefix_w, pn[i]);
        to_float(get(key), v);
    }
    return net;
}

static void test_training_steps_vs_torch(void **state)
{
    (void)state;
    float x[40];
    int32_t y[8];
    to_float(get("mlp_x"), x);
    const tensor *ty = get("mlp_y");
    for (int i = 0; i < 8; i++)
        y[i] = (int32_t)ty->v[i];
    /* variant 2: SGD after torch.nn.utils.clip_grad_norm_(0.1), which clips at every step */
    for (int variant = 0; variant < 3; variant++) {
        int adam = variant == 1;
        const char *tag = variant == 0 ? "sgd" : variant == 1 ? "adam" : "sgdclip";
        nninit_optim_opts o = nninit_optim_opts_default();
        if (adam) {
            o.kind = NNINIT_OPT_ADAM;
            o.lr = 0.01;
        } else {
            o.lr = 0.1;
            o.momentum = 0.9;
            o.nesterov = variant == 0;
            o.clip_norm = variant == 2 ? 0.1 : 0.0;
        }
        o.weight_decay = 0.01;
        nninit_net *net = mlp("mlp", 0);
        char lkey[64];
        snprintf(lkey, sizeof lkey, "%s_loss", tag);
        const tensor *tl = get(lkey);
        nninit_err err;
        for (int step = 0; step < 3; step++) {
            const float *out;
            float dout[24];
            double loss;
            assert_ok(nninit_net_forward(net, x, 8, 1, &out, &err), &err);
            assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, 8, 3, y, NULL, &loss, dout, &err), &err);
            assert_close(loss, tl->v[step], 2e-6);
            assert_ok(nninit_net_backward(net, dout, 0, &err), &err);
            if (step == 0) {
                float *g0, *g1;
                char key[64];
                nninit_net_param(net, 0, 0, NULL, &g0, NULL, NULL, NULL);
                nninit_net_param(net, 1, 1, NULL, &g1, NULL, NULL, NULL);
                snprintf(key, sizeof key, "%s_grad_w0", tag);
                expect(key, g0, get(key), 2e-6);
                snprintf(key, sizeof key, "%s_grad_b1", tag);
                expect(key, g1, get(key), 2e-6);
            }
            assert_ok(nninit_net_step(net, &o, o.lr, &err), &err);
        }
        const char *pn[4] = {"w0", "b0", "w1", "b1"};
        int layer[4] = {0, 0, 1, 1}, which[4] = {0, 1, 0, 1};
        for (int i = 0; i < 4; i++) {
            float *v;
            char key[64];
            nninit_net_param(net, layer[i], which[i], &v, NULL, NULL, NULL, NULL);
            snprintf(key, sizeof key, "%s_%s", tag, pn[i]);
            expect(key, v, get(key), 2e-6);
        }
        nninit_net_free(net);
    }
}

/* nninit_train's step (nninit__net_backward_step): with plain momentum SGD the
 * dense kernels' gradients go into the momentum buffer by one sgemm with beta
 * = momentum, and weight decay enters after it. Same tolerance as above. The
 * steps with want_grads (a monitor's) must give the same weights bit for bit
 * and write the kernel gradient, which must be torch's. */
static void test_folded_momentum_vs_torch(void **state)
{
    (void)state;
    float x[40];
    int32_t y[8];
    to_float(get("mlp_x"), x);
    const tensor *ty = get("mlp_y");
    for (int i = 0; i < 8; i++)
        y[i] = (int32_t)ty->v[i];
    for (int variant = 0; variant < 2; variant++) {
        const char *tag = variant ? "sgdmomwd" : "sgdmom";
        nninit_optim_opts o = nninit_optim_opts_default();
        o.lr = 0.1;
        o.momentum = 0.9;
        o.weight_decay = variant ? 0.01 : 0.0;
        assert_true(nninit__sgd_folds_momentum(&o));
        nninit_net *nets[2] = {mlp("mlp", 0), mlp("mlp", 0)};
        char lkey[64];
        snprintf(lkey, sizeof lkey, "%s_loss", tag);
        const tensor *tl = get(lkey);
        nninit_err err;
        for (int step = 0; step < 3; step++)
            for (int k = 0; k < 2; k++) { /* net 1 materializes the gradients (a monitor's step) */
                const float *out;
                float dout[24];
                double loss;
                assert_ok(nninit_net_forward(nets[k], x, 8, 1, &out, &err), &err);
                assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, 8, 3, y, NULL, &loss, dout, &err), &err);
                assert_close(loss, tl->v[step], 2e-6);
                float *g0;
                nninit_net_param(nets[k], 0, 0, NULL, &g0, NULL, NULL, NULL);
                memset(g0, 0, 30 * sizeof *g0);
                assert_ok(nninit__net_backward_step(nets[k], dout, &o, o.lr, k, &err), &err);
                char key[64];
                snprintf(key, sizeof key, "%s_grad_w0", tag);
                if (step == 0 && k == 1)
                    expect(key, g0, get(key), 2e-6);
                for (int i = 0; k == 0 && i < 30; i++)
                    assert_true(g0[i] == 0.0f); /* not written without want_grads */
            }
        const char *pn[4] = {"w0", "b0", "w1", "b1"};
        int layer[4] = {0, 0, 1, 1}, which[4] = {0, 1, 0, 1};
        for (int i = 0; i < 4; i++) {
            float *v, *v1;
            nninit_shape sh;
            int64_t n;
            char key[64];
            nninit_net_param(nets[0], layer[i], which[i], &v, NULL, &sh, NULL, NULL);
            nninit_net_param(nets[1], layer[i], which[i], &v1, NULL, NULL, NULL, NULL);
            assert_ok(nninit_shape_numel(&sh, &n, &err), &err);
            snprintf(key, sizeof key, "%s_%s", tag, pn[i]);
            expect(key, v, get(key), 2e-6);
            assert_memory_equal(v, v1, (size_t)n * sizeof *v);
        }
        nninit_net_free(nets[0]);
        nninit_net_free(nets[1]);
    }
}

static void test_batchnorm_vs_torch(void **state)
{
    (void)state;
    float x[40], t[24], dout[24];
    to_float(get("mlp_x"), x);
    to_float(get("bn_t"), t);
    nninit_net *net = mlp("bn", 1);
    nninit_err err;
    const float *out;
    double loss;
    assert_ok(nninit_net_forward(net, x, 8, 1, &out, &err), &err);
    assert_ok(nninit_loss(NNINIT_LOSS_MSE, out, 8, 3, NULL, t, &loss, dout, &err), &err);
    assert_close(loss, get("bn_loss")->v[0], 2e-6);
    assert_ok(nninit_net_backward(net, dout, 1, &err), &err);
    const char *key[4] = {"bn_grad_w0", "bn_grad_gamma", "bn_grad_beta", "bn_grad_w1"};
    int layer[4] = {0, 1, 1, 3}, which[4] = {0, 0, 1, 0};
    for (int i = 0; i < 4; i++) {
        float *g;
        nninit_net_param(net, layer[i], which[i], NULL, &g, NULL, NULL, NULL);
        expect(key[i], g, get(key[i]), 2e-6);
    }
    expect("bn_grad_x", nninit_net_tensor(net, 0, NNINIT_T_GRAD_INPUT, NULL, NULL), get("bn_grad_x"), 2e-6);
    nninit_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations_vs_torch),
        cmocka_unit_test(test_training_steps_vs_torch),
        cmocka_unit_test(test_folded_momentum_vs_torch),
        cmocka_unit_test(test_batchnorm_vs_torch),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
