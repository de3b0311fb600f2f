/*
 * Training-step time of two sequence models built from the sequence kernels
 * (src/nn/seq_*.c), for bench/seq_vs_torch.py (PyTorch on the same models)
 * until the engine's layer graph runs them:
 *
 *   lstm:        Fashion-MNIST images as 28 steps of 28 features, batch 128,
 *                LSTM(128) last state, Dense(10), softmax cross-entropy.
 *   transformer: fortunes character windows, 64 steps, batch 32; Embedding(V,
 *                128) + position embedding, 2 pre-LN blocks (4 heads, d_ff
 *                512, causal, exact GELU), LayerNorm, Dense(V), cross-entropy
 *                at every step.
 *
 * One step = forward, loss, backward of every parameter and an SGD update
 * (lr 0.01), batches taken in order. One untimed warm-up step comes first
 * (first touches of the buffers, OpenBLAS's own allocation; its sgemm calls
 * are recorded, see below), then N timed steps. Prints one line "MODEL
 * seconds S cpu C blas B blas_wall W steps N peak_rss_mib M last_loss L param_hash H":
 * wall and process CPU seconds of the N timed steps, the BLAS floor B (CPU)
 * and W (wall), the peak resident memory, the loss of the last step and
 * an FNV-1a hash of the trained parameters' bytes (same hash, same bits).
 *
 * The floor: this program interposes cblas_sgemm (forwarding to OpenBLAS's
 * through dlsym(RTLD_NEXT)). During the warm-up step it records every call's
 * arguments (shapes, transposes, alpha, beta, the engine's own pointers and
 * leading dimensions); after the timed steps it replays that list N times,
 * the calls alone, timed as a whole. So the floor is the same sgemm calls
 * the engine makes, on the same buffers, and the timed steps carry no clock
 * reads (the interposer only counts calls then, to check every step made
 * the recorded list's number of calls).
 *
 * usage: seq_epochs [lstm|transformer] [--steps N] [--threads T] [--data DIR]
 * With no arguments: 3 steps of each model on 1 thread (a smoke run for
 * `make bench`).
 */
#define _GNU_SOURCE
#include "nn/internal.h"
#include "nninit_data.h"

#include <cblas.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_seconds; /* CPU time of the process during the steps (all threads) */

/* ---- the BLAS floor: the recorded sgemm calls replayed alone ---- */

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                         const blasint, const blasint, const blasint, const float, const float *, const blasint,
                         const float *, const blasint, const float, float *, const blasint);

typedef struct sgemm_call {
    enum CBLAS_ORDER order;
    enum CBLAS_TRANSPOSE ta, tb;
    blasint m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
} sgemm_call;

static struct {
    sgemm_fn real;
    int recording;
    sgemm_call *calls;
    size_t n_calls, cap;
    long long counted; /* calls made while not recording */
} interposed;

static sgemm_fn real_sgemm(void)
{
    if (!interposed.real) {
        void *sym = dlsym(RTLD_NEXT, "cblas_sgemm");
        memcpy(&interposed.real, &sym, sizeof interposed.real);
        if (!interposed.real) {
            fprintf(stderr, "seq_epochs: cannot find OpenBLAS's cblas_sgemm\n");
            exit(1);
        }
    }
    return interposed.real;
}

void cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                 const blasint m, const blasint n, const blasint k, const float alpha, const float *a,
                 const blasint lda, const float *b, const blasint ldb, const float beta, float *c, const blasint ldc)
{
    if (interposed.recording) {
        if (interposed.n_calls == interposed.cap) {
            interposed.cap = interposed.cap ? 2 * interposed.cap : 1024;
            interposed.calls = realloc(interposed.calls, interposed.cap * sizeof *interposed.calls);
            if (!interposed.calls) {
                fprintf(stderr, "seq_epochs: out of memory recording sgemm calls\n");
                exit(1);
            }
        }
        interposed.calls[interposed.n_calls++] = (sgemm_call){order, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta,
                                                               a, b, c};
    } else {
        interposed.counted++;
    }
    real_sgemm()(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Starts recording (the warm-up step) or stops it (before the timed steps). */
static void record_calls(int on)
{
    if (on)
        interposed.n_calls = 0;
    interposed.recording = on;
    interposed.counted = 0;
}

/* After the timed steps: checks each made the recorded number of calls,
 * then replays the list `steps` times; CPU and wall seconds of the replay. */
static void blas_floor(int64_t steps, double *cpu, double *wall)
{
    if (interposed.counted != steps * (long long)interposed.n_calls) {
        fprintf(stderr, "seq_epochs: the timed steps made %lld sgemm calls, not %lld x %zu as the warm-up did\n",
                interposed.counted, (long long)steps, interposed.n_calls);
        exit(1);
    }
    sgemm_fn f = real_sgemm();
    double t0 = now(), c0 = cpu_now();
    for (int64_t s = 0; s < steps; s++)
        for (size_t i = 0; i < interposed.n_calls; i++) {
            const sgemm_call *q = &interposed.calls[i];
            f(q->order, q->ta, q->tb, q->m, q->n, q->k, q->alpha, q->a, q->lda, q->b, q->ldb, q->beta, q->c, q->ldc);
        }
    *cpu = cpu_now() - c0;
    *wall = now() - t0;
}

static double blas_seconds, blas_wall; /* the floor: CPU and wall seconds of the replayed calls */

/* ---- parameters ---- */

typedef struct param {
    float *w, *g;
    int64_t n;
} param;

typedef struct params {
    param p[64];
    int n;
    uint64_t state;
} params;

static float *new_param(params *ps, int64_t n, double scale, int ones)
{
    param *p = &ps->p[ps->n++];
    p->n = n;
    p->w = malloc((size_t)n * sizeof(float));
    p->g = calloc((size_t)n, sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        ps->state = ps->state * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(ps->state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
        p->w[i] = ones ? 1.0f : (float)(scale * u);
    }
    return p->w;
}

static float *grad_of(params *ps, const float *w)
{
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].w == w)
            return ps->p[i].g;
    return NULL;
}

static void sgd(params *ps, float lr)
{
    for (int i = 0; i < ps->n; i++)
        for (int64_t j = 0; j < ps->p[i].n; j++)
            ps->p[i].w[j] -= lr * ps->p[i].g[j];
}

/* FNV-1a over every parameter's bytes: equal hashes mean the training run
 * gave the same bits (a kernel change meant to keep them is checked so). */
static unsigned long long param_hash(const params *ps)
{
    unsigned long long h = 1469598103934665603ull;
    for (int i = 0; i < ps->n; i++) {
        const unsigned char *b = (const unsigned char *)ps->p[i].w;
        for (size_t j = 0; j < (size_t)ps->p[i].n * sizeof(float); j++)
            h = (h ^ b[j]) * 1099511628211ull;
    }
    return h;
}

static unsigned long long last_hash; /* of the run just made */

static void free_params(params *ps)
{
    last_hash = param_hash(ps);
    for (int i = 0; i < ps->n; i++) {
        free(ps->p[i].w);
        free(ps->p[i].g);
    }
}

static void die(const nninit_err *err)
{
    fprintf(stderr, "seq_epochs: %s\n", err->msg);
    exit(1);
}

/* ---- LSTM on Fashion-MNIST rows ---- */

static double run_lstm(int64_t steps, const char *dir, double *loss_out)
{
    enum { B = 128, T = 28, F = 28, U = 128, C = 10 };
    nninit_dataset d;
    nninit_err err;
    if (nninit_dataset_load(dir, "train", &d, &err) != NNINIT_OK)
        die(&err);
    params ps = {.state = 1};
    nninit__rnn_spec s = {NNINIT__CELL_LSTM, 0, 1, 0, 0, F, U};
    nninit__rnn_weights w = {new_param(&ps, F * 4 * U, 0.15, 0), new_param(&ps, U * 4 * U, 0.08, 0),
                             new_param(&ps, 4 * U, 0.0, 0), NULL};
    float *wd = new_param(&ps, U * C, 0.15, 0), *bd = new_param(&ps, C, 0.0, 0);
    nninit__rnn_grads g = {grad_of(&ps, w.kernel), grad_of(&ps, w.recurrent), grad_of(&ps, w.bias_in), NULL};
    float *cache = malloc(nninit__rnn_cache_floats(&s, B, T) * sizeof(float));
    float *h = malloc(B * U * sizeof(float)), *logits = malloc(B * C * sizeof(float));
    float *dlog = malloc(B * C * sizeof(float)), *dh = malloc(B * U * sizeof(float));
    int64_t n_batches = d.n / B;
    double loss = 0, t0 = 0, c0 = 0;
    for (int64_t k = 0; k <= steps; k++) { /* step 0: the untimed warm-up */
        if (k <= 1) {
            record_calls(k == 0);
            t0 = now(), c0 = cpu_now();
        }
        int64_t b0 = (k % n_batches) * B;
        const float *x = d.x + b0 * T * F;
        nninit__rnn_forward(&s, &w, x, B, T, cache, h);
        nninit__linear_forward(0, h, wd, bd, B, U, C, logits);
        if (nninit_loss(NNINIT_LOSS_SOFTMAX_CE, logits, B, C, d.y + b0, NULL, &loss, dlog, &err) != NNINIT_OK)
            die(&err);
        nninit__linear_backward(0, h, wd, dlog, B, U, C, grad_of(&ps, wd), grad_of(&ps, bd), dh, 0);
        nninit__rnn_backward(&s, &w, B, T, cache, dh, &g, NULL);
        sgd(&ps, 0.01f);
    }
    double secs = now() - t0;
    cpu_seconds = cpu_now() - c0;
    blas_floor(steps, &blas_seconds, &blas_wall);
    *loss_out = loss;
    free(cache), free(h), free(logits), free(dlog), free(dh);
    free_params(&ps);
    nninit_dataset_free(&d);
    return secs;
}

/* ---- 2-layer transformer on fortunes characters ---- */

static double run_transformer(int64_t steps, double *loss_out)
{
    enum { B = 32, T = 64, D = 128, HEADS = 4, FF = 512, L = 2 };
    nninit_text tr, te;
    nninit_err err;
    if (nninit_fortunes_load(NULL, &tr, &te, &err) != NNINIT_OK)
        die(&err);
    nninit_seqset ws;
    if (nninit_text_windows(&tr, T, T, &ws, &err) != NNINIT_OK)
        die(&err);
    const int64_t V = tr.vocab, R = B * T;
    params ps = {.state = 2};
    float *emb = new_param(&ps, V * D, 0.02, 0), *pos = new_param(&ps, T * D, 0.02, 0);
    nninit__block_spec bs = {{D, HEADS, D / HEADS, 1, 1}, FF, 1e-5, 0};
    nninit__block_weights bw[L];
    nninit__block_grads bg[L];
    for (int l = 0; l < L; l++) {
        nninit__block_weights *w = &bw[l];
        w->ln1_gamma = new_param(&ps, D, 0, 1), w->ln1_beta = new_param(&ps, D, 0, 0);
        w->ln2_gamma = new_param(&ps, D, 0, 1), w->ln2_beta = new_param(&ps, D, 0, 0);
        w->mha.wq = new_param(&ps, D * D, 0.09, 0), w->mha.wk = new_param(&ps, D * D, 0.09, 0);
        w->mha.wv = new_param(&ps, D * D, 0.09, 0);
        w->mha.bq = new_param(&ps, D, 0, 0), w->mha.bk = new_param(&ps, D, 0, 0), w->mha.bv = new_param(&ps, D, 0, 0);
        w->mha.wo = new_param(&ps, D * D, 0.09, 0), w->mha.bo = new_param(&ps, D, 0, 0);
        w->w1 = new_param(&ps, D * FF, 0.09, 0), w->b1 = new_param(&ps, FF, 0, 0);
        w->w2 = new_param(&ps, FF * D, 0.04, 0), w->b2 = new_param(&ps, D, 0, 0);
        nninit__block_grads *g = &bg[l];
        g->ln1_gamma = grad_of(&ps, w->ln1_gamma), g->ln1_beta = grad_of(&ps, w->ln1_beta);
        g->ln2_gamma = grad_of(&ps, w->ln2_gamma), g->ln2_beta = grad_of(&ps, w->ln2_beta);
        g->mha.wq = grad_of(&ps, w->mha.wq), g->mha.wk = grad_of(&ps, w->mha.wk), g->mha.wv = grad_of(&ps, w->mha.wv);
        g->mha.bq = grad_of(&ps, w->mha.bq), g->mha.bk = grad_of(&ps, w->mha.bk), g->mha.bv = grad_of(&ps, w->mha.bv);
        g->mha.wo = grad_of(&ps, w->mha.wo), g->mha.bo = grad_of(&ps, w->mha.bo);
        g->w1 = grad_of(&ps, w->w1), g->b1 = grad_of(&ps, w->b1), g->w2 = grad_of(&ps, w->w2), g->b2 = grad_of(&ps, w->b2);
    }
    float *lnf_g = new_param(&ps, D, 0, 1), *lnf_b = new_param(&ps, D, 0, 0);
    float *wh = new_param(&ps, V * D, 0.09, 0), *bh = new_param(&ps, V, 0, 0);
    size_t cache_n = nninit__block_cache_floats(&bs, B, T);
    float *cache[L], *act[L + 1];
    for (int l = 0; l < L; l++)
        cache[l] = malloc(cache_n * sizeof(float));
    for (int l = 0; l <= L; l++)
        act[l] = malloc((size_t)(R * D) * sizeof(float));
    float *xhat = malloc((size_t)(R * D) * sizeof(float)), *mean = malloc(R * sizeof(float));
    float *inv = malloc(R * sizeof(float)), *hf = malloc((size_t)(R * D) * sizeof(float));
    float *logits = malloc((size_t)(R * V) * sizeof(float)), *dlog = malloc((size_t)(R * V) * sizeof(float));
    float *d1 = malloc((size_t)(R * D) * sizeof(float)), *d2 = malloc((size_t)(R * D) * sizeof(float));
    double loss = 0, t0 = 0, c0 = 0;
    for (int64_t k = 0; k <= steps; k++) { /* step 0: the untimed warm-up */
        if (k <= 1) {
            record_calls(k == 0);
            t0 = now(), c0 = cpu_now();
        }
        int64_t s0 = (k % (ws.n / B)) * B;
        const int32_t *tok = ws.tokens + s0 * T, *tgt = ws.y + s0 * T;
        if (nninit__embedding_forward(tok, R, emb, V, D, act[0], &err) != NNINIT_OK)
            die(&err);
        nninit__posemb_forward(act[0], pos, B, T, D, act[0]);
        for (int l = 0; l < L; l++)
            nninit__block_forward(&bs, &bw[l], act[l], B, T, cache[l], act[l + 1]);
        nninit__norm_forward(NNINIT__NORM_LAYER, act[L], R, D, lnf_g, lnf_b, 1e-5, xhat, mean, inv, hf);
        nninit__linear_forward(1, hf, wh, bh, R, D, V, logits);
        if (nninit_loss(NNINIT_LOSS_SOFTMAX_CE, logits, R, V, tgt, NULL, &loss, dlog, &err) != NNINIT_OK)
            die(&err);
        nninit__linear_backward(1, hf, wh, dlog, R, D, V, grad_of(&ps, wh), grad_of(&ps, bh), d1, 0);
        nninit__norm_backward(NNINIT__NORM_LAYER, xhat, mean, inv, lnf_g, d1, R, D, grad_of(&ps, lnf_g),
                              grad_of(&ps, lnf_b), d2);
        for (int l = L - 1; l >= 0; l--) {
            nninit__block_backward(&bs, &bw[l], act[l], B, T, cache[l], d2, &bg[l], d1);
            float *t = d1;
            d1 = d2;
            d2 = t;
        }
        nninit__posemb_backward(d2, B, T, D, grad_of(&ps, pos));
        nninit__embedding_backward(tok, R, d2, V, D, -1, grad_of(&ps, emb));
        sgd(&ps, 0.01f);
    }
    double secs = now() - t0;
    cpu_seconds = cpu_now() - c0;
    blas_floor(steps, &blas_seconds, &blas_wall);
    *loss_out = loss;
    for (int l = 0; l < L; l++)
        free(cache[l]);
    for (int l = 0; l <= L; l++)
        free(act[l]);
    free(xhat), free(mean), free(inv), free(hf), free(logits), free(dlog), free(d1), free(d2);
    free_params(&ps);
    nninit_seqset_free(&ws);
    nninit_text_free(&tr);
    nninit_text_free(&te);
    return secs;
}

static void report(const char *model, int64_t steps, double secs, double loss)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s seconds %.4f cpu %.4f blas %.4f blas_wall %.4f steps %lld peak_rss_mib %.1f last_loss %.4f "
           "param_hash %016llx\n", model, secs, cpu_seconds, blas_seconds, blas_wall, (long long)steps,
           (double)ru.ru_maxrss / 1024.0, loss, last_hash);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *model = NULL, *dir = NULL;
    int64_t steps = 3;
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "lstm") || !strcmp(argv[i], "transformer"))
            model = argv[i];
        else {
            fprintf(stderr, "usage: seq_epochs [lstm|transformer] [--steps N] [--threads T] [--data DIR]\n");
            return 2;
        }
    }
    if (steps < 1 || threads < 1) {
        fprintf(stderr, "seq_epochs: --steps and --threads must be >= 1\n");
        return 2;
    }
    nninit_blas_set_threads(threads);
    double loss = 0, secs;
    if (!model || !strcmp(model, "lstm")) {
        secs = run_lstm(steps, dir, &loss);
        report("lstm", steps, secs, loss);
    }
    if (!model || !strcmp(model, "transformer")) {
        secs = run_transformer(steps, &loss);
        report("transformer", steps, secs, loss);
    }
    return 0;
}
