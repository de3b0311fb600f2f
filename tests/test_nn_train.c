/* Training: a small synthetic problem that must reach a stated loss,
 * bit-for-bit determinism, divergence detection; model descriptions (MLP
 * recipe, JSON); permutations and validation splits. */
#include "util.h"

/* XOR of the signs in 2-D: not linearly separable, so the hidden layers
 * must learn. Points come from an LCG (the data need no statistical
 * quality, only reproducibility), kept 0.05 away from the axes. */
static void make_xor(nninit_dataset *d, int64_t n, uint64_t seed)
{
    memset(d, 0, sizeof *d); /* y_steps 0, yf NULL: one class label a row */
    d->n = n;
    d->dim = 2;
    d->n_classes = 2;
    d->x = malloc((size_t)n * 2 * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        float v[2];
        for (int k = 0; k < 2; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(s >> 11) * 0x1.0p-53 * 1.9 - 0.95;
            v[k] = (float)(u < 0 ? u - 0.05 : u + 0.05);
        }
        d->x[2 * i] = v[0];
        d->x[2 * i + 1] = v[1];
        d->y[i] = (v[0] > 0) == (v[1] > 0);
    }
}

static nninit_net *xor_net(uint64_t seed, const char *init)
{
    int64_t hidden[2] = {16, 16};
    nninit_mlp_desc m = nninit_mlp_desc_default();
    m.n_hidden = 2;
    m.hidden = hidden;
    m.n_outputs = 2;
    m.act = NNINIT_ACT_TANH;
    m.kernel_init = init;
    nninit_layer_desc *L;
    int n;
    nninit_err err;
    assert_ok(nninit_net_desc_mlp(&m, &L, &n, &err), &err);
    nninit_net_opts no = nninit_net_opts_default();
    no.seed = seed;
    nninit_net *net;
    assert_ok(nninit_net_new(2, L, n, &no, &net, &err), &err);
    nninit_free(L);
    return net;
}

static nninit_train_opts xor_opts(void)
{
    nninit_train_opts o = nninit_train_opts_default();
    o.optim.lr = 0.1;
    o.optim.momentum = 0.9;
    o.batch = 32;
    o.epochs = 40;
    o.threads = 1;
    return o;
}

/* 512 points, 40 epochs of 16 steps: the training loss must fall below 0.05
 * (chance level is ln 2 = 0.693) and the held-out accuracy above 97%. */
static void test_train_xor(void **state)
{
    (void)state;
    nninit_dataset tr, te;
    make_xor(&tr, 512, 1);
    make_xor(&te, 1000, 2);
    nninit_net *net = xor_net(3, "glorot_uniform");
    nninit_train_opts o = xor_opts();
    nninit_epoch_stats h[40];
    nninit_err err;
    assert_ok(nninit_train(net, &tr, NULL, &te, &o, h, &err), &err);
    assert_true(h[0].train_loss > 0.3);
    if (!(h[39].train_loss < 0.05 && h[39].test_acc > 0.97)) {
        print_error("final train loss %.4f (want < 0.05), test acc %.4f (want > 0.97)\n", h[39].train_loss,
                    h[39].test_acc);
        fail();
    }
    assert_true(isnan(h[39].val_acc));
    /* zero init never breaks the symmetry: every hidden unit stays identical */
    nninit_net *z = xor_net(3, "zeros");
    assert_ok(nninit_train(z, &tr, NULL, &te, &o, h, &err), &err);
    assert_true(h[39].train_loss > 0.6);
    nninit_net_free(z);
    nninit_net_free(net);
    nninit_dataset_free(&tr);
    nninit_dataset_free(&te);
}

static void test_determinism(void **state)
{
    (void)state;
    nninit_dataset tr;
    make_xor(&tr, 300, 5);
    nninit_train_opts o = xor_opts();
    o.epochs = 5;
    o.batch = 16; /* 300 = 18 * 16 + 12: a short last batch too */
    nninit_epoch_stats h[3][5];
    float *w[3];
    nninit_err err;
    uint64_t seeds[3] = {11, 11, 12};
    for (int r = 0; r < 3; r++) {
        nninit_net *net = xor_net(seeds[r], "he_uniform");
        o.seed = seeds[r];
        assert_ok(nninit_train(net, &tr, NULL, NULL, &o, h[r], &err), &err);
        float *v;
        assert_ok(nninit_net_param(net, 2, 0, &v, NULL, NULL, NULL, &err), &err);
        w[r] = malloc(16 * 2 * sizeof(float));
        memcpy(w[r], v, 16 * 2 * sizeof(float));
        nninit_net_free(net);
    }
    for (int e = 0; e < 5; e++) {
        assert_memory_equal(&h[0][e].train_loss, &h[1][e].train_loss, sizeof(double));
        assert_memory_equal(&h[0][e].train_acc, &h[1][e].train_acc, sizeof(double));
    }
    assert_memory_equal(w[0], w[1], 16 * 2 * sizeof(float));
    assert_true(memcmp(&h[0][4].train_loss, &h[2][4].train_loss, sizeof(double)) != 0);
    for (int r = 0; r < 3; r++)
        free(w[r]);
    nninit_dataset_free(&tr);
}

/* nninit_train fuses each layer's optimizer step into the backward pass; the
 * result must be bit-identical to the public forward/loss/backward/step loop,
 * except with plain momentum SGD (variant 3): there the dense kernels'
 * gradients go into the momentum buffer by an sgemm with beta = momentum and
 * weight decay is added after it, which rounds differently (OpenBLAS's
 * small-matrix kernel forms beta v + x^T dy with one rounding; torch and the
 * public step two). Bound for that variant: 14 steps of lr 0.1 on O(1)
 * momenta differing by a few float ulps (~1e-7 each) move a weight by at
 * most ~14 * 0.1 * 1e-6 = 1.4e-6 (measured: 1.2e-7 at most); 1e-5 leaves room
 * and is far below what a wrong momentum or decay does (>= 1e-3 here). */
static void test_fused_step_matches_manual_loop(void **state)
{
    (void)state;
    nninit_dataset tr;
    make_xor(&tr, 100, 8);
    /* variant 0: SGD with Nesterov momentum; 1: Adam; 2: Adam with gradient-norm
     * clipping (the steps then wait for the whole backward); 3: plain momentum */
    float adam_w0[2 * 16];
    for (int variant = 0; variant < 4; variant++) {
        int adam = variant == 1 || variant == 2;
        nninit_train_opts o = xor_opts();
        o.epochs = 2;
        o.batch = 16;
        o.optim.weight_decay = 1e-3;
        o.optim.nesterov = variant == 0;
        if (adam) {
            o.optim.kind = NNINIT_OPT_ADAM;
            o.optim.lr = 0.01;
        }
        o.optim.clip_norm = variant == 2 ? 0.05 : 0.0;
        nninit_err err;
        nninit_net *a = xor_net(4, "he_normal"), *b = xor_net(4, "he_normal");
        assert_ok(nninit_train(a, &tr, NULL, NULL, &o, NULL, &err), &err);
        int64_t perm[100];
        float xb[16 * 2], dout[16 * 2];
        int32_t yb[16];
        for (int e = 0; e < 2; e++) {
            nninit_permutation(perm, 100, o.seed, (uint64_t)e + 1, NULL);
            for (int64_t r0 = 0; r0 < 100; r0 += 16) {
                int64_t rows = 100 - r0 < 16 ? 100 - r0 : 16;
                for (int64_t r = 0; r < rows; r++) {
                    memcpy(xb + 2 * r, tr.x + 2 * perm[r0 + r], 2 * sizeof(float));
                    yb[r] = tr.y[perm[r0 + r]];
                }
                const float *out;
                double loss;
                assert_ok(nninit_net_forward(b, xb, rows, 1, &out, &err), &err);
                assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, rows, 2, yb, NULL, &loss, dout, &err), &err);
                assert_ok(nninit_net_backward(b, dout, 0, &err), &err);
                assert_ok(nninit_net_step(b, &o.optim, o.optim.lr, &err), &err);
            }
        }
        for (int layer = 0; layer < 3; layer++)
            for (int which = 0; which < 2; which++) {
                float *va, *vb;
                nninit_shape sh;
                assert_ok(nninit_net_param(a, layer, which, &va, NULL, &sh, NULL, &err), &err);
                assert_ok(nninit_net_param(b, layer, which, &vb, NULL, NULL, NULL, &err), &err);
                int64_t n = sh.ndim == 2 ? sh.dim[0] * sh.dim[1] : sh.dim[0];
                if (variant < 3)
                    assert_memory_equal(va, vb, (size_t)n * sizeof(float));
                for (int64_t k = 0; k < n; k++)
                    assert_true(fabsf(va[k] - vb[k]) <= 1e-5f);
            }
        /* the clipped run must differ from the unclipped Adam run (0.05 clips these gradients) */
        float *w0;
        assert_ok(nninit_net_param(a, 0, 0, &w0, NULL, NULL, NULL, &err), &err);
        if (variant == 1)
            memcpy(adam_w0, w0, sizeof adam_w0);
        else if (variant == 2)
            assert_true(memcmp(adam_w0, w0, sizeof adam_w0) != 0);
        nninit_net_free(a);
        nninit_net_free(b);
    }
    nninit_dataset_free(&tr);
}

typedef struct seen {
    int epochs;
} seen;

static void count_epochs(const nninit_epoch_stats *s, void *user)
{
    (void)s;
    ((seen *)user)->epochs++;
}

static void test_divergence(void **state)
{
    (void)state;
    nninit_dataset tr;
    make_xor(&tr, 256, 9);
    nninit_net *net = xor_net(1, "RandomNormal(stddev=30.0)");
    nninit_train_opts o = xor_opts();
    o.optim.lr = 1e30;
    o.epochs = 3;
    seen s = {0};
    o.on_epoch = count_epochs;
    o.user = &s;
    nninit_err err;
    nninit_epoch_stats h[3];
    assert_int_equal(nninit_train(net, &tr, NULL, NULL, &o, h, &err), NNINIT_ENUMERIC);
    assert_non_null(strstr(err.msg, "diverged at epoch 1, step "));
    assert_int_equal(s.epochs, 0);
    nninit_net_free(net);
    /* data that do not fit the network */
    net = xor_net(1, NULL);
    tr.y[3] = 2; /* a third class, two outputs */
    o = xor_opts();
    assert_int_equal(nninit_train(net, &tr, NULL, NULL, &o, NULL, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "label 2 of row 3"));
    tr.y[3] = 0;
    tr.dim = 1;
    tr.n = 512;
    assert_int_equal(nninit_train(net, &tr, NULL, NULL, &o, NULL, &err), NNINIT_EINVAL);
    tr.dim = 2;
    tr.n = 256;
    o.batch = 0;
    assert_int_equal(nninit_train(net, &tr, NULL, NULL, &o, NULL, &err), NNINIT_EINVAL);
    o = xor_opts();
    o.optim.clip_norm = -1.0;
    assert_int_equal(nninit_train(net, &tr, NULL, NULL, &o, NULL, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "gradient clip norm -1; expected a finite value >= 0"));
    o.optim.clip_norm = (double)NAN;
    assert_int_equal(nninit_train(net, &tr, NULL, NULL, &o, NULL, &err), NNINIT_EINVAL);
    nninit_net_free(net);
    nninit_dataset_free(&tr);
}

static void test_mlp_recipe(void **state)
{
    (void)state;
    int64_t hidden[2] = {8, 4};
    nninit_mlp_desc m = nninit_mlp_desc_default();
    m.n_hidden = 2;
    m.hidden = hidden;
    m.bn = 1;
    m.dropout = 0.1;
    m.kernel_init = "he_normal";
    nninit_layer_desc *L;
    int n;
    nninit_err err;
    assert_ok(nninit_net_desc_mlp(&m, &L, &n, &err), &err);
    nninit_layer_kind want[9] = {NNINIT_LAYER_DENSE, NNINIT_LAYER_BATCHNORM, NNINIT_LAYER_ACTIVATION,
                                 NNINIT_LAYER_DROPOUT, NNINIT_LAYER_DENSE, NNINIT_LAYER_BATCHNORM,
                                 NNINIT_LAYER_ACTIVATION, NNINIT_LAYER_DROPOUT, NNINIT_LAYER_DENSE};
    assert_int_equal(n, 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(L[i].kind, want[i]);
    assert_int_equal(L[0].act, NNINIT_ACT_LINEAR); /* BN comes before the activation */
    assert_int_equal(L[2].act, NNINIT_ACT_RELU);
    assert_string_equal(L[4].kernel_init, "he_normal");
    assert_int_equal(L[8].units, 10);
    assert_close(L[3].rate, 0.1, 0);
    nninit_free(L);
    m.dropout = 1.0;
    assert_int_equal(nninit_net_desc_mlp(&m, &L, &n, &err), NNINIT_EINVAL);
}

static void test_model_json(void **state)
{
    (void)state;
    const char *keras =
        "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
        "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 8], \"name\": \"input\"}},"
        "{\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"trainable\": true,"
        " \"units\": 4, \"activation\": \"relu\", \"use_bias\": true, \"kernel_initializer\": {\"module\": "
        "\"keras.initializers\", \"class_name\": \"HeNormal\", \"config\": {\"seed\": null}, \"registered_name\": null},"
        " \"bias_initializer\": \"zeros\", \"kernel_regularizer\": null}},"
        "{\"class_name\": \"BatchNormalization\", \"config\": {\"momentum\": 0.9, \"epsilon\": 0.001, \"axis\": -1}},"
        "{\"class_name\": \"Dropout\", \"config\": {\"rate\": 0.5}},"
        "{\"class_name\": \"Dense\", \"config\": {\"units\": 3, \"activation\": \"softmax\", \"use_bias\": false}}]}}";
    nninit_layer_desc *L;
    int n;
    nninit_err err;
    assert_ok(nninit_net_desc_parse_json(keras, &L, &n, &err), &err);
    assert_int_equal(n, 4);
    assert_int_equal(L[0].kind, NNINIT_LAYER_DENSE);
    assert_int_equal(L[0].units, 4);
    assert_int_equal(L[0].act, NNINIT_ACT_RELU);
    nninit_init init;
    assert_ok(nninit_init_parse(L[0].kernel_init, &init, &err), &err);
    assert_int_equal(init.kind, NNINIT_HE_NORMAL);
    assert_int_equal(L[1].kind, NNINIT_LAYER_BATCHNORM);
    assert_close(L[1].momentum, 0.9, 0);
    assert_close(L[2].rate, 0.5, 0);
    assert_int_equal(L[3].act, NNINIT_ACT_SOFTMAX);
    assert_int_equal(L[3].use_bias, 0);
    assert_string_equal(L[3].kernel_init, "glorot_uniform"); /* Keras Dense default */
    nninit_net *net;
    assert_ok(nninit_net_new(8, L, n, NULL, &net, &err), &err);
    assert_int_equal(nninit_net_n_params(net), 8 * 4 + 4 + 4 + 4 + 4 * 3);
    nninit_net_free(net);
    nninit_free(L);

    const char *flat = "[{\"class_name\": \"dense\", \"units\": 5, \"activation\": \"leaky_relu(0.1)\","
                       " \"kernel_initializer\": \"VarianceScaling(scale=2.0, mode=\\\"fan_out\\\")\"},"
                       " {\"type\": \"activation\", \"activation\": \"tanh\"}]";
    assert_ok(nninit_net_desc_parse_json(flat, &L, &n, &err), &err);
    assert_int_equal(n, 2);
    assert_close(L[0].alpha, 0.1, 0);
    assert_int_equal(L[1].act, NNINIT_ACT_TANH);
    nninit_free(L);
    assert_ok(nninit_net_desc_parse_json("{\"layers\": [{\"class_name\": \"Dense\", \"units\": 2}]}", &L, &n, &err), &err);
    assert_int_equal(n, 1);
    nninit_free(L);

    struct {
        const char *text;
        nninit_status st;
        const char *needle;
    } bad[] = {
        {"[{\"class_name\": \"Dense\", \"unit\": 5}]", NNINIT_EINVAL, "unknown key 'unit'"},
        {"[{\"class_name\": \"Dense\"}]", NNINIT_EINVAL, "missing \"units\""},
        {"[{\"class_name\": \"Dense\", \"units\": 2.5}]", NNINIT_EINVAL, "units 2.5"},
        {"[{\"class_name\": \"Dense\", \"units\": 0}]", NNINIT_EINVAL, "units 0"},
        {"[{\"class_name\": \"SeparableConv2D\", \"filters\": 3}]", NNINIT_EUNSUPPORTED, "'SeparableConv2D' is not supported"},
        {"[{\"class_name\": \"Conv2D\", \"kernel_size\": 3}]", NNINIT_EINVAL, "missing \"filters\""},
        {"[{\"class_name\": \"Conv2D\", \"filters\": 3, \"padding\": \"causal\"}]", NNINIT_EUNSUPPORTED, "padding must be"},
        {"[{\"class_name\": \"Add\"}]", NNINIT_EUNSUPPORTED, "exactly two"},
        {"[{\"class_name\": \"Dense\", \"units\": 2, \"inputs\": [\"nope\"]}]", NNINIT_EINVAL, "'nope' is not an earlier layer"},
        {"[{\"class_name\": \"Dense\", \"units\": 2, \"kernel_regularizer\": \"l2\"}]", NNINIT_EINVAL,
         "unknown key 'kernel_regularizer'"},
        {"[{\"class_name\": \"Dense\", \"units\": 2, \"activation\": \"relux\"}]", NNINIT_ENOTFOUND, "relux"},
        {"[{\"class_name\": \"Dense\", \"units\": 2, \"units\": 3}]", NNINIT_EINVAL, "duplicate"},
        {"[{\"class_name\": \"Dense\", \"units\": 2,]", NNINIT_EINVAL, "line 1"},
        {"[]", NNINIT_EINVAL, "expected a list of 1"},
        {"{\"layers\": 3}", NNINIT_EINVAL, "expected a list"},
        {"[3]", NNINIT_EINVAL, "expected an object"},
        {"[{\"units\": 2}]", NNINIT_EINVAL, "missing \"class_name\""},
        {"[{\"class_name\": \"BatchNormalization\", \"center\": false}]", NNINIT_EUNSUPPORTED, "center=false"},
        {"[{\"class_name\": \"BatchNormalization\", \"moving_variance_initializer\": \"zeros\"}]",
         NNINIT_EUNSUPPORTED, "must be \"ones\""},
        {"[{\"class_name\": \"InputLayer\"}]", NNINIT_EINVAL, "no layers besides InputLayer"},
        {"[{\"class_name\": \"Dropout\", \"rate\": \"half\"}]", NNINIT_EINVAL, "expected a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        L = (nninit_layer_desc *)(uintptr_t)1;
        nninit_status s = nninit_net_desc_parse_json(bad[i].text, &L, &n, &err);
        if (s != bad[i].st || !strstr(err.msg, bad[i].needle)) {
            print_error("%s -> %s '%s'; expected %s with '%s'\n", bad[i].text, nninit_status_str(s), err.msg,
                        nninit_status_str(bad[i].st), bad[i].needle);
            fail();
        }
        assert_null(L);
    }
}

static void test_permutation(void **state)
{
    (void)state;
    /* validity on a large n */
    enum { N = 100003 };
    int64_t *p = malloc(N * sizeof *p);
    unsigned char *hit = calloc(N, 1);
    nninit_err err;
    assert_ok(nninit_permutation(p, N, 42, 1, &err), &err);
    for (int64_t i = 0; i < N; i++) {
        assert_true(p[i] >= 0 && p[i] < N && !hit[p[i]]);
        hit[p[i]] = 1;
    }
    free(hit);
    free(p);
    /* uniformity over the 6 orders of 3 elements, 6000 draws (streams 0..5999):
     * expected 1000 each; chi-square with 5 dof exceeds 25.7 with probability
     * 1e-4. A biased shuffle (swapping with any position each step) has order
     * probabilities 4/27 and 5/27, so an expected chi-square of 6 * 111^2 / 1000 = 74 here. */
    int count[6] = {0};
    for (int s = 0; s < 6000; s++) {
        int64_t q[3];
        nninit_permutation(q, 3, 7, (uint64_t)s, NULL);
        int code = (int)(q[0] * 2 + (q[1] > q[2]));
        count[code]++;
    }
    double chi2 = 0;
    for (int k = 0; k < 6; k++)
        chi2 += (count[k] - 1000.0) * (count[k] - 1000.0) / 1000.0;
    if (!(chi2 < 25.7)) {
        print_error("chi-square %.2f >= 25.7\n", chi2);
        fail();
    }
    /* same (seed, stream) -> same order; another stream -> another */
    int64_t a[50], b[50], c[50];
    nninit_permutation(a, 50, 1, 3, NULL);
    nninit_permutation(b, 50, 1, 3, NULL);
    nninit_permutation(c, 50, 1, 4, NULL);
    assert_memory_equal(a, b, sizeof a);
    assert_true(memcmp(a, c, sizeof a) != 0);
}

static void test_split(void **state)
{
    (void)state;
    nninit_dataset d, v;
    make_xor(&d, 1000, 3);
    for (int64_t i = 0; i < 1000; i++)
        d.x[2 * i] = (float)i; /* tag each row with its index */
    nninit_err err;
    assert_ok(nninit_dataset_split(&d, 0.1, 5, &v, &err), &err);
    assert_int_equal(v.n, 100);
    assert_int_equal(d.n, 900);
    unsigned char seen_row[1000] = {0};
    for (int64_t i = 0; i < v.n; i++) {
        int64_t r = (int64_t)v.x[2 * i];
        assert_true(!seen_row[r]);
        seen_row[r] = 1;
        if (i)
            assert_true(v.x[2 * i] > v.x[2 * (i - 1)]); /* order kept */
    }
    for (int64_t i = 0; i < d.n; i++) {
        int64_t r = (int64_t)d.x[2 * i];
        assert_true(!seen_row[r]);
        seen_row[r] = 1;
        if (i)
            assert_true(d.x[2 * i] > d.x[2 * (i - 1)]);
    }
    /* the held-out rows are spread over the set, not the first or last 100 */
    assert_true(v.x[0] < 100 && v.x[2 * 99] > 900);
    nninit_dataset_free(&v);
    assert_int_equal(nninit_dataset_split(&d, 0.0, 5, &v, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_dataset_split(&d, 0.9999999, 5, &v, &err), NNINIT_EINVAL);
    nninit_dataset_free(&d);
}

/* Sequence sets: nninit_dataset_from_seqset keeps the tokens (as floats) and
 * the per-step targets, and the loss and accuracy of such a set are those of
 * every step: nninit_evaluate equals nninit_loss over (rows * steps) rows
 * computed here, bit for bit. Real targets need the mse loss. */
static void test_sequence_targets(void **state)
{
    (void)state;
    enum { N = 40, DELAY = 3, T = DELAY + 20 };
    nninit_seqset ss;
    nninit_dataset d;
    nninit_err err;
    assert_ok(nninit_copy_memory(N, DELAY, 5, &ss, &err), &err);
    assert_ok(nninit_dataset_from_seqset(&ss, &d, &err), &err);
    assert_int_equal(d.dim, T);
    assert_int_equal(d.y_steps, T);
    for (int64_t i = 0; i < N * T; i++) {
        assert_true(d.x[i] == (float)ss.tokens[i]);
        assert_int_equal(d.y[i], ss.y[i]);
    }
    nninit_layer_desc L[2];
    L[0] = nninit_layer_desc_default(NNINIT_LAYER_EMBEDDING);
    L[0].vocab = 10;
    L[0].units = 4;
    L[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[1].units = 9;
    nninit_shape in = {1, {T}};
    nninit_net *net = NULL;
    assert_ok(nninit_net_new_shaped(&in, L, 2, NULL, &net, &err), &err);
    double loss = 0, acc = 0, ref = 0;
    assert_ok(nninit_evaluate(net, &d, NNINIT_LOSS_SOFTMAX_CE, N, &loss, &acc, &err), &err);
    const float *out;
    assert_ok(nninit_net_forward(net, d.x, N, 0, &out, &err), &err);
    assert_ok(nninit_loss(NNINIT_LOSS_SOFTMAX_CE, out, N * T, 9, d.y, NULL, &ref, NULL, &err), &err);
    assert_true(loss == ref); /* one batch of N rows: the mean over its N * T steps */
    int64_t correct = 0;
    for (int64_t r = 0; r < N * T; r++) {
        int best = 0;
        for (int j = 1; j < 9; j++)
            best = out[r * 9 + j] > out[r * 9 + best] ? j : best;
        correct += best == d.y[r];
    }
    assert_true(acc == (double)correct / (double)(N * T));
    nninit_train_opts o = nninit_train_opts_default();
    o.epochs = 1;
    o.batch = 8;
    assert_ok(nninit_train(net, &d, NULL, &d, &o, NULL, &err), &err);
    nninit_net_free(net);
    nninit_dataset_free(&d);
    nninit_seqset_free(&ss);
    /* the adding problem: one real target a row */
    assert_ok(nninit_adding_problem(N, 6, 5, &ss, &err), &err);
    assert_ok(nninit_dataset_from_seqset(&ss, &d, &err), &err);
    assert_null(d.y);
    assert_int_equal(d.dim, 12);
    nninit_layer_desc D = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    D.units = 1;
    assert_ok(nninit_net_new(12, &D, 1, NULL, &net, &err), &err);
    assert_int_equal(nninit_train(net, &d, NULL, NULL, &o, NULL, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "real targets; train them with the mse loss"));
    o.loss = NNINIT_LOSS_MSE;
    nninit_epoch_stats h;
    assert_ok(nninit_train(net, &d, NULL, &d, &o, &h, &err), &err);
    assert_true(isnan(h.train_acc) && isnan(h.test_acc) && h.test_loss >= 0.0);
    nninit_net_free(net);
    nninit_dataset_free(&d);
    nninit_seqset_free(&ss);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_xor),  cmocka_unit_test(test_determinism), cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_fused_step_matches_manual_loop),
        cmocka_unit_test(test_mlp_recipe), cmocka_unit_test(test_model_json),  cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_split), cmocka_unit_test(test_sequence_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
