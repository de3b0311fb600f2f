/* Epoch timer for the benchmark recipes (SGD momentum 0.9, batch 128,
 * Fashion-MNIST): --model mlp (default) 784-256-256-10 ReLU, He-normal;
 * --model cnn the small CNN conv 3x3x16 relu, max pool 2, conv 3x3x32 relu,
 * max pool 2, flatten, dense 10 (He-normal convs, Glorot dense, 28x28x1
 * images). One training epoch at a time, so that bench/train_vs_torch.py can
 * alternate nninit and PyTorch epochs on a shared machine with the data
 * already loaded on both sides.
 *
 *   train_epochs [--model M] [--threads T] [--lr X]            two epochs, one line each
 *   train_epochs --serve [--model M] [--threads T] [--lr X]    reads a count per stdin line,
 *       trains that many epochs, prints "seconds cpu_seconds test_acc" per epoch
 *   train_epochs --floor [--model M] [--threads T]   the same epochs' sgemm calls
 *       alone (same shapes, same count, on scratch buffers): the BLAS floor;
 *       --floor-dw-beta 0 (mlp): the weight gradients with beta 0, as the engine
 *       called them before it folded the momentum into them (default 0.9)
 *   train_epochs --floor-im2col --model cnn   the floor as defined before the first
 *       conv became direct code: also its two products as im2col + sgemm made them
 *   train_epochs --hash N [--model M] [--threads T]   N epochs, then the FNV-1a hash of
 *       every parameter's bits: compares the engine's arithmetic before and after a change
 *   --no-eval (with any of the above) skips the per-epoch test evaluation (test_acc nan):
 *       a profile (perf record) then sees the training pass alone
 *
 * Without the data set it says so and exits 0 (make bench must not fail on it). */
#include "nninit.h"
#include "nninit_data.h"
#include "nninit_model.h"
#include "nninit_nn.h"

#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The small CNN's sgemm calls for one epoch of 60000 images in batches of
 * 128: the second conv's forward product, kernel gradient and patch
 * gradient, the dense layer's three products. Same shapes and row-major
 * calls as src/nn/conv2d.c and dense.c (chunking aside). The first conv
 * (one input channel) is direct code in src/nn/conv2d.c, no sgemm: with
 * with_conv1 its forward and kernel-gradient products as im2col + sgemm
 * made them are timed too (the floor's definition until then). */
static void floor_epochs(int count, int with_conv1)
{
    const int B = 128, n = 60000;
    size_t big = (size_t)B * 26 * 26 * 144; /* largest operand */
    float *a = calloc(big, sizeof *a), *b = calloc(big, sizeof *b), *c = calloc(big, sizeof *c);
    for (int e = 0; e < count; e++) {
        struct timespec t0, t1;
        clock_t c0 = clock();
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int r0 = 0; r0 < n; r0 += B) {
            int m = n - r0 < B ? n - r0 : B;
            int m1 = m * 26 * 26, m2 = m * 11 * 11;
            if (with_conv1) { /* conv1 (K = 9, 16 filters): forward, dK */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m1, 16, 9, 1.f, a, 9, b, 16, 0.f, c, 16);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 9, 16, m1, 1.f, a, 9, b, 16, 0.f, c, 16);
            }
            /* conv2 (K = 144, 32 filters): forward, dK, dcols */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m2, 32, 144, 1.f, a, 144, b, 32, 0.f, c, 32);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 144, 32, m2, 1.f, a, 144, b, 32, 0.f, c, 32);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m2, 144, 32, 1.f, b, 32, a, 32, 0.f, c, 144);
            /* dense 800 -> 10: forward, dW, dx */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, 10, 800, 1.f, a, 800, b, 10, 0.f, c, 10);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 800, 10, m, 1.f, a, 800, b, 10, 0.f, c, 10);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, 800, 10, 1.f, b, 10, a, 10, 0.f, c, 800);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%.6f %.6f nan\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
               (double)(clock() - c0) / CLOCKS_PER_SEC);
        fflush(stdout);
    }
    free(a);
    free(b);
    free(c);
}

/* The MLP's sgemm calls for one epoch (60000 rows in batches of 128): per
 * dense layer the forward product (beta 1 over the broadcast bias, as
 * seq_linear.c does), the weight gradient (beta dw_beta: the engine's
 * training step folds SGD momentum 0.9 into it, dense.c), and for layers 2
 * and 3 the input gradient; Keras (in, out) weights, row-major. dw_beta 0
 * gives the calls of the engine before that folding (a gradient apart). */
static float dw_beta = 0.9f;

static void floor_mlp_epochs(int count)
{
    const int B = 128, n = 60000, dims[4] = {784, 256, 256, 10};
    size_t big = (size_t)B * 784 + 784 * 256;
    float *a = calloc(big, sizeof *a), *b = calloc(big, sizeof *b), *c = calloc(big, sizeof *c);
    for (int e = 0; e < count; e++) {
        struct timespec t0, t1;
        clock_t c0 = clock();
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int r0 = 0; r0 < n; r0 += B) {
            int m = n - r0 < B ? n - r0 : B;
            for (int l = 0; l < 3; l++) /* forward */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dims[l + 1], dims[l], 1.f, a, dims[l], b,
                            dims[l + 1], 1.f, c, dims[l + 1]);
            for (int l = 2; l >= 0; l--) { /* backward: dW = x^T dy, dx = dy W^T */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dims[l], dims[l + 1], m, 1.f, a, dims[l], b,
                            dims[l + 1], dw_beta, c, dims[l + 1]);
                if (l > 0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, dims[l], dims[l + 1], 1.f, b, dims[l + 1],
                                a, dims[l + 1], 0.f, c, dims[l]);
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%.6f %.6f nan\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
               (double)(clock() - c0) / CLOCKS_PER_SEC);
        fflush(stdout);
    }
    free(a);
    free(b);
    free(c);
}

static nninit_layer_desc conv_layer(int64_t filters)
{
    nninit_layer_desc d = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    d.units = filters;
    d.act = NNINIT_ACT_RELU;
    strcpy(d.kernel_init, "he_normal");
    return d;
}

static int run_epochs(nninit_net *net, const nninit_dataset *tr, const nninit_dataset *te, nninit_train_opts *o,
                      int count)
{
    for (int i = 0; i < count; i++) {
        nninit_epoch_stats st;
        nninit_err err;
        o->epochs = 1;
        o->seed += 1; /* each call is epoch 1 of its own order: a fresh shuffle every time */
        if (nninit_train(net, tr, NULL, te, o, &st, &err) != NNINIT_OK) {
            fprintf(stderr, "train_epochs: %s\n", err.msg);
            return 0;
        }
        printf("%.6f %.6f %.6f\n", st.seconds, st.cpu_seconds, st.test_acc);
        fflush(stdout);
    }
    return 1;
}

int main(int argc, char **argv)
{
    int serve = 0, threads = 1, cnn = 0, floor_only = 0, floor_conv1 = 0, hash_epochs = 0, no_eval = 0;
    double lr = 0.05;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--serve"))
            serve = 1;
        else if (!strcmp(argv[i], "--no-eval"))
            no_eval = 1;
        else if (!strcmp(argv[i], "--floor"))
            floor_only = 1;
        else if (!strcmp(argv[i], "--floor-im2col"))
            floor_only = floor_conv1 = 1;
        else if (!strcmp(argv[i], "--floor-dw-beta") && i + 1 < argc)
            dw_beta = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            cnn = !strcmp(argv[++i], "cnn");
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hash") && i + 1 < argc)
            hash_epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--lr") && i + 1 < argc)
            lr = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: train_epochs [--serve] [--floor [--floor-dw-beta B] | --floor-im2col] [--hash N] [--no-eval] "
                            "[--model mlp|cnn] [--threads T] [--lr X]\n");
            return 2;
        }
    }
    if (floor_only) {
        openblas_set_num_threads(threads);
        char line[64];
        int count = 2;
        while (!serve || fgets(line, sizeof line, stdin)) {
            if (serve)
                count = atoi(line);
            if (cnn)
                floor_epochs(count, floor_conv1);
            else
                floor_mlp_epochs(count);
            if (!serve)
                break;
        }
        return 0;
    }
    nninit_dataset tr, te;
    nninit_err err;
    if (nninit_dataset_load(NULL, "train", &tr, &err) != NNINIT_OK) {
        fprintf(stderr, "train_epochs: skipped: %s\n", err.msg);
        return 0;
    }
    if (nninit_dataset_load(NULL, "t10k", &te, &err) != NNINIT_OK) {
        fprintf(stderr, "train_epochs: skipped: %s\n", err.msg);
        nninit_dataset_free(&tr);
        return 0;
    }
    int64_t hidden[2] = {256, 256};
    nninit_mlp_desc m = nninit_mlp_desc_default();
    m.n_hidden = 2;
    m.hidden = hidden;
    m.kernel_init = "he_normal";
    m.bias_init = "zeros";
    nninit_layer_desc *layers = NULL;
    int n_layers = 0;
    nninit_net *net = NULL;
    nninit_layer_desc cnn_layers[6];
    cnn_layers[0] = conv_layer(16);
    cnn_layers[1] = nninit_layer_desc_default(NNINIT_LAYER_MAXPOOL2D);
    cnn_layers[2] = conv_layer(32);
    cnn_layers[3] = nninit_layer_desc_default(NNINIT_LAYER_MAXPOOL2D);
    cnn_layers[4] = nninit_layer_desc_default(NNINIT_LAYER_FLATTEN);
    cnn_layers[5] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    cnn_layers[5].units = 10;
    nninit_shape image;
    if (cnn && nninit_dataset_view(&tr, "images", &image, &err) != NNINIT_OK) {
        fprintf(stderr, "train_epochs: %s\n", err.msg);
        return 1;
    }
    if (cnn ? nninit_net_new_shaped(&image, cnn_layers, 6, NULL, &net, &err) != NNINIT_OK
            : (nninit_net_desc_mlp(&m, &layers, &n_layers, &err) != NNINIT_OK ||
               nninit_net_new(tr.dim, layers, n_layers, NULL, &net, &err) != NNINIT_OK)) {
        fprintf(stderr, "train_epochs: %s\n", err.msg);
        return 1;
    }
    nninit_free(layers);
    nninit_train_opts o = nninit_train_opts_default();
    o.optim.lr = lr;
    o.optim.momentum = 0.9;
    o.batch = 128;
    o.threads = threads;
    int ok = 1;
    if (hash_epochs > 0) {
        ok = run_epochs(net, &tr, no_eval ? NULL : &te, &o, hash_epochs);
        uint64_t h = 0xcbf29ce484222325ull;
        for (int l = 0; ok && l < nninit_net_n_layers(net); l++)
            for (int k = 0; k < 2; k++) {
                float *v;
                nninit_shape sh;
                int64_t n;
                if (nninit_net_param(net, l, k, &v, NULL, &sh, NULL, &err) != NNINIT_OK ||
                    nninit_shape_numel(&sh, &n, &err) != NNINIT_OK)
                    continue;
                for (int64_t j = 0; j < n; j++) {
                    uint32_t b;
                    memcpy(&b, &v[j], sizeof b);
                    h = (h ^ b) * 0x100000001b3ull;
                }
            }
        printf("parameter hash %016llx\n", (unsigned long long)h);
    } else if (serve) {
        char line[64];
        while (ok && fgets(line, sizeof line, stdin))
            ok = run_epochs(net, &tr, no_eval ? NULL : &te, &o, atoi(line));
    } else {
        ok = run_epochs(net, &tr, no_eval ? NULL : &te, &o, 2);
    }
    nninit_net_free(net);
    nninit_dataset_free(&tr);
    nninit_dataset_free(&te);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(stderr, "train_epochs: peak resident memory %.1f MB (data sets included)\n", (double)ru.ru_maxrss / 1024.0);
    return ok ? 0 : 1;
}
