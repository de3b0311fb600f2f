/* nninit train: trains an MLP, or any network a model file describes
 * (dense, convolutional, residual), on an IDX classification data set
 * (Fashion-MNIST by default, as vectors, images or row sequences) and
 * reports per-epoch loss and accuracy; --compare runs the same recipe once
 * per kernel initializer; --monitor logs per-layer dynamics. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HIDDEN 256
#define MAX_COMPARE 16

typedef struct train_args {
    const char *data, *model_path, *act, *init, *bias_init, *log_path, *compare, *layout;
    const char *torch; /* --torch RECIPE */
    const char *seq;   /* a sequence set: "fortunes", "copy", "adding" (else NULL) */
    int64_t seq_len;   /* --seq-len (0: the set's default) */
    nninit_shape seq_view; /* what the network sees of one sequence */
    int loss_given;
    const char *view, *monitor_path, *init_out, *data_dir; /* data view ("flat", "images", "rows"); --monitor-log; --init-out */
    int monitor_every;
    int64_t hidden[MAX_HIDDEN];
    int n_hidden;
    int bn, json, standardize, quiet, lsuv;
    int wn_init; /* --wn-init */
    double dropout, val;
    int64_t limit;
    nninit_train_opts topts;
    uint64_t seed;
} train_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nninit train [options]\n"
            "Trains a multilayer perceptron (flags), the network of a model file (--model) or a PyTorch\n"
            "recipe (--torch) on an IDX image data set or a sequence set and prints, per epoch: epoch,\n"
            "train loss, train accuracy, test accuracy, seconds.\n\n"
            "data:\n"
            "  --data SET|DIR      fashion-mnist (784 features), fashion-mnist-images (28x28x1 NHWC),\n"
            "                      fashion-mnist-rows (28 steps of 28 features), or a folder with\n"
            "                      {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (flat rows);\n"
            "                      sequence sets: fortunes (character windows of --seq-len ids, the next\n"
            "                      character of every step as target; text from --data-dir, default\n"
            "                      $NNINIT_FORTUNES or /usr/share/games/fortunes), copy (copy memory:\n"
            "                      --seq-len steps = delay + 20, a class per step), adding (the adding\n"
            "                      problem: --seq-len steps of 2 features, one real target; --loss mse)\n"
            "  --seq-len N         steps of a sequence set (fortunes 64, copy 30, adding 50)\n"
            "  --data-dir DIR      where the named sets live (default $NNINIT_DATA, else\n"
            "                      /usr/share/datasets/fashion-mnist)\n"
            "  --standardize       subtract the training mean, divide by its std (after x/255;\n"
            "                      image sets only)\n"
            "  --val FRACTION      hold out a seeded random fraction of the training set (images or\n"
            "                      sequences, each with its targets)\n"
            "  --limit N           use only the first N training images (quick runs)\n"
            "model (flags):\n"
            "  --layers W,W,...    hidden widths (default 256,256; WxN repeats W N times, e.g. 256x10);\n"
            "                      the output has one unit per class\n"
            "  --act NAME          relu (default), leaky_relu[(a)], elu[(a)], selu, gelu, swish|silu,\n"
            "                      tanh, sigmoid, linear, gelu_tanh (GELU's tanh form)\n"
            "  --init SPEC         kernel initializer of every dense layer (default glorot_uniform)\n"
            "  --bias-init SPEC    bias initializer (default zeros)\n"
            "  --bn                batch normalization before each hidden activation\n"
            "  --lsuv              after the init, rescale each dense and conv2d kernel to unit output\n"
            "                      variance on the first 512 training images (LSUV, Mishkin & Matas 2016);\n"
            "                      each rescaled layer, and the layers with parameters left alone, on\n"
            "                      stderr; a layer not within 0.01 of 1 after 10 rescalings is an error\n"
            "  --wn-init           after the init, standardize each unit of every dense and conv2d layer to\n"
            "                      mean 0, variance 1 on the first 512 training images (weight normalization's\n"
            "                      data-dependent init, Salimans & Kingma 2016); not with --lsuv\n"
            "  --dropout RATE      dropout after each hidden layer\n"
            "  --layout keras|torch  fan convention and fill order of kernels (default keras)\n"
            "model (file):\n"
            "  --model FILE.json   a Keras Sequential/Functional model JSON (model.to_json()), initialized\n"
            "                      exactly as 'nninit model --keras FILE --seed N' writes it, or nninit's\n"
            "                      layer list (docs/train.md); replaces the flags above. Layers: Dense,\n"
            "                      Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D,\n"
            "                      GlobalAveragePooling2D, Flatten, BatchNormalization, Activation,\n"
            "                      Dropout, Add (residual), Scale, SimpleRNN, LSTM, GRU, Embedding,\n"
            "                      PositionEmbedding, LayerNormalization, RMSNormalization,\n"
            "                      MultiHeadAttention, TransformerBlock\n"
            "  --torch 'RECIPE'    a PyTorch module recipe (the syntax of 'nninit model --torch'),\n"
            "                      initialized exactly as 'nninit model --torch RECIPE --seed N' writes\n"
            "                      it, in PyTorch's layouts; Residual(body=M), LastStep(rnn=M),\n"
            "                      Positions(wpe=Embedding(T, d)), Causal(block=M) wrap modules\n"
            "                      (docs/train.md)\n"
            "  --init-out FILE     write the initial tensors (model names; .npz, .safetensors, or a folder\n"
            "                      of .npy) before training (Keras models and recipes)\n"
            );
    fprintf(f,
            "training:\n"
            "  --optimizer sgd|adam  (default sgd)     --lr X (default 0.01)\n"
            "  --momentum X        sgd momentum (default 0)   --nesterov\n"
            "  --weight-decay X    coupled L2, as torch.optim (default 0)\n"
            "  --clip-norm X       scale the gradients so their global L2 norm is at most X before\n"
            "                      each step (torch.nn.utils.clip_grad_norm_; default 0: off)\n"
            "  --schedule constant|step|cosine   --step-epochs N   --gamma X   --lr-min X\n"
            "  --loss ce|mse       (default ce: softmax cross-entropy)\n"
            "  --batch N (default 128)  --epochs N (default 10)  --seed N\n"
            "  --threads N         BLAS threads, 0..%d (default 0: as OpenBLAS starts)\n"
            "output:\n"
            "  --log FILE.csv      per-epoch history, written atomically at the end\n"
            "  --monitor N         every N steps, per layer: activation mean/variance, dead and saturated\n"
            "                      fractions, gradient norm, weight norm, update/weight ratio, as JSON\n"
            "  --monitor-log FILE  lines appended to FILE and flushed as training runs (needed by --monitor)\n"
            "  --json              one JSON object on stdout at the end (epoch lines go to stderr)\n"
            "  --quiet             no epoch lines\n"
            "  --compare A,B,...   run once per kernel initializer (same seed, same data order)\n"
            "                      and print a side-by-side table\n\n"
            "Same seed and --threads give the same numbers bit for bit; another thread count\n"
            "may change the last bits of the BLAS products and so the whole curve slightly.\n"
            "\n" CLI_EXIT_STATUS_HELP,
            CLI_MAX_THREADS);
}

static int parse_widths(const char *text, train_args *a)
{
    a->n_hidden = 0;
    if (!strcmp(text, "") || !strcmp(text, "none"))
        return 1;
    const char *p = text;
    while (*p) {
        char *end = NULL;
        long long v = strtoll(p, &end, 10), times = 1;
        if (end != p && *end == 'x') { /* "256x10": ten layers of 256 */
            const char *q = end + 1;
            times = strtoll(q, &end, 10);
            if (end == q)
                times = 0;
        }
        if (end == p || v < 1 || v > 16777216 || times < 1 || (*end && *end != ',') ||
            a->n_hidden + times > MAX_HIDDEN) {
            cli_error("--layers '%s': expected comma-separated widths in 1 .. 16777216, W or WxN (N layers of W), "
                      "at most %d layers", text, MAX_HIDDEN);
            return 0;
        }
        for (long long k = 0; k < times; k++)
            a->hidden[a->n_hidden++] = v;
        p = *end ? end + 1 : end;
    }
    return 1;
}

/* Splits a --compare list at commas outside parentheses, brackets and quotes. */
static int split_specs(char *text, char **out, int cap)
{
    int n = 0, depth = 0;
    char quote = 0;
    char *start = text;
    for (char *p = text;; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            else if (!*p)
                return -1;
            continue;
        }
        if (*p == '"' || *p == '\'')
            quote = *p;
        else if (*p == '(' || *p == '[' || *p == '{')
            depth++;
        else if (*p == ')' || *p == ']' || *p == '}')
            depth--;
        else if ((*p == ',' && depth == 0) || !*p) {
            int last = !*p;
            *p = '\0';
            if (n >= cap || !*start)
                return -1;
            out[n++] = start;
            start = p + 1;
            if (last)
                break;
        }
    }
    return n;
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + len, 1, cap - 1 - len, f);
        len += k;
        if (k == 0)
            break;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* ---- output ---- */

typedef struct run_state {
    const train_args *a;
    nninit_epoch_stats *hist;
    int done;        /* epochs finished */
    int has_val, has_test;
    FILE *lines;     /* epoch lines: stdout, stderr (--json) or NULL (--quiet, --compare) */
    int tty;
    const char *label;
    struct monitor_state *monitor;
} run_state;

static void on_step(int epoch, int64_t step, int64_t n_steps, void *user)
{
    run_state *r = user;
    if (!r->tty)
        return;
    int64_t every = n_steps / 50 > 0 ? n_steps / 50 : 1;
    if (step % every && step != n_steps)
        return;
    int filled = (int)(30 * step / n_steps);
    fprintf(stderr, "\r%s%sepoch %d/%d [%.*s%*s] %lld/%lld", r->label ? r->label : "", r->label ? ": " : "", epoch,
            r->a->topts.epochs, filled, "##############################", 30 - filled, "", (long long)step,
            (long long)n_steps);
    if (step == n_steps)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

static void on_epoch(const nninit_epoch_stats *s, void *user)
{
    run_state *r = user;
    r->hist[r->done++] = *s;
    if (!r->lines)
        return;
    int seq = r->a->seq != NULL; /* sequence sets: the test loss (nats per step, or MSE) is the measure */
    if (s->epoch == 1)
        fprintf(r->lines, "epoch  train_loss  train_acc%s%s  test_acc  seconds\n", r->has_val ? "  val_acc" : "",
                seq ? "  test_loss" : "");
    fprintf(r->lines, "%5d  %10.4f  %9.4f", s->epoch, s->train_loss, s->train_acc);
    if (r->has_val)
        fprintf(r->lines, "  %7.4f", s->val_acc);
    if (seq)
        fprintf(r->lines, "  %9.4f", s->test_loss);
    if (r->has_test)
        fprintf(r->lines, "  %8.4f", s->test_acc);
    else
        fprintf(r->lines, "  %8s", "-");
    fprintf(r->lines, "  %7.2f\n", s->seconds);
    fflush(r->lines);
}

static void json_history(FILE *f, const nninit_epoch_stats *h, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s{\"epoch\": %d, \"train_loss\": ", i ? ", " : "", h[i].epoch);
        cli_json_num(f, 9, h[i].train_loss);
        fputs(", \"train_acc\": ", f);
        cli_json_num(f, 9, h[i].train_acc);
        fputs(", \"val_loss\": ", f);
        cli_json_num(f, 9, h[i].val_loss);
        fputs(", \"val_acc\": ", f);
        cli_json_num(f, 9, h[i].val_acc);
        fputs(", \"test_loss\": ", f);
        cli_json_num(f, 9, h[i].test_loss);
        fputs(", \"test_acc\": ", f);
        cli_json_num(f, 9, h[i].test_acc);
        fputs(", \"seconds\": ", f);
        cli_json_num(f, 9, h[i].seconds);
        fputs(", \"cpu_seconds\": ", f);
        cli_json_num(f, 9, h[i].cpu_seconds);
        fputs(", \"lr\": ", f);
        cli_json_num(f, 9, h[i].lr);
        fputc('}', f);
    }
    fputc(']', f);
}

/* Writes the CSV history as every output is written (docs/files.md). */
static int write_log(const char *path, char **labels, nninit_epoch_stats **hist, const int *done, int n_runs)
{
    nninit_err err = {0};
    nninit_output *out = NULL;
    nninit_status st = nninit_output_open(path, &out, &err);
    if (st != NNINIT_OK) {
        cli_report(st, &err);
        return 0;
    }
    FILE *f = nninit_output_file(out);
    int ok = fprintf(f, "%sepoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,lr\n",
                     labels ? "init," : "") > 0;
    for (int r = 0; r < n_runs; r++)
        for (int i = 0; i < done[r]; i++) {
            const nninit_epoch_stats *s = &hist[r][i];
            if (labels) {
                /* quote the spec: it may hold commas */
                fputc('"', f);
                for (const char *p = labels[r]; *p; p++) {
                    if (*p == '"')
                        fputc('"', f);
                    fputc(*p, f);
                }
                fputs("\",", f);
            }
            ok &= fprintf(f, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.6f,%.9g\n", s->epoch, s->train_loss, s->train_acc,
                          s->val_loss, s->val_acc, s->test_loss, s->test_acc, s->seconds, s->lr) > 0;
        }
    if (!ok) {
        int e = errno;
        nninit_output_abort(out);
        cli_error("%s: writing the log failed (%s); nothing was replaced", path, strerror(e));
        return 0;
    }
    if ((st = nninit_output_commit(out, &err)) != NNINIT_OK) {
        cli_report(st, &err);
        return 0;
    }
    return 1;
}

/* One line on stderr: the data and the layers, e.g.
 * "data: 60000 train, 10000 test, 784 features, 10 classes; model: dense 256 relu, ... (235146 parameters)" */
static void print_model(const nninit_net *net, const nninit_dataset *train, const nninit_dataset *val,
                        const nninit_dataset *test)
{
    fprintf(stderr, "nninit: data: %lld train", (long long)train->n);
    if (val)
        fprintf(stderr, ", %lld validation", (long long)val->n);
    fprintf(stderr, ", %lld test, %lld features, %d classes; model:", (long long)test->n, (long long)train->dim,
            (int)train->n_classes);
    for (int i = 0; i < nninit_net_n_layers(net); i++) {
        nninit_layer_info li;
        if (nninit_net_layer_info(net, i, &li, NULL) != NNINIT_OK)
            continue;
        fprintf(stderr, "%s ", i ? "," : "");
        switch (li.kind) {
        case NNINIT_LAYER_DENSE:
            fprintf(stderr, "dense %lld%s%s", (long long)li.out_shape.dim[li.out_shape.ndim - 1], li.act != NNINIT_ACT_LINEAR ? " " : "",
                    li.act != NNINIT_ACT_LINEAR ? nninit_act_name(li.act) : "");
            break;
        case NNINIT_LAYER_ACTIVATION:
            fputs(nninit_act_name(li.act), stderr);
            break;
        default:
            fputs(nninit_layer_kind_name(li.kind), stderr);
            break;
        }
    }
    fprintf(stderr, " (%lld parameters)\n", (long long)nninit_net_n_params(net));
}

/* --init-out's format from its ending: .npz, .safetensors, else a folder of .npy. */
static nninit_file_format init_out_format(const char *path)
{
    size_t pl = strlen(path);
    if (pl > 4 && !strcmp(path + pl - 4, ".npz"))
        return NNINIT_FORMAT_NPZ;
    if (pl > 12 && !strcmp(path + pl - 12, ".safetensors"))
        return NNINIT_FORMAT_SAFETENSORS;
    return NNINIT_FORMAT_NPY_DIR;
}

/* --lsuv's report on stderr, beside the model line: one line per rescaled
 * layer, and one naming the layers with parameters it left alone (batch
 * norm, as the paper does; recurrent, embedding, attention: LSUV here
 * rescales dense and conv2d kernels only). */
static void print_lsuv(const nninit_net *net, const nninit_lsuv_layer *rep, const char *run)
{
    const char *open = run ? " [" : "", *close = run ? "]" : "";
    int skipped = 0;
    nninit_layer_info li;
    for (int l = 0; l < nninit_net_n_layers(net); l++)
        if (rep[l].is_dense && nninit_net_layer_info(net, l, &li, NULL) == NNINIT_OK)
            fprintf(stderr, "nninit: lsuv%s%s%s: layer %d (%s): variance %.4g -> %.4f, %d rescaling%s (kernel x %.4g)\n",
                    open, run ? run : "", close, l, li.name, rep[l].var_before, rep[l].var_after, rep[l].iters,
                    rep[l].iters == 1 ? "" : "s", rep[l].scale);
    for (int l = 0; l < nninit_net_n_layers(net); l++) {
        if (rep[l].is_dense || nninit_net_layer_info(net, l, &li, NULL) != NNINIT_OK || li.n_params == 0)
            continue;
        if (!skipped++)
            fprintf(stderr, "nninit: lsuv%s%s%s: not rescaled (LSUV rescales dense and conv2d kernels only):", open,
                    run ? run : "", close);
        const char *kind = nninit_layer_kind_name(li.kind); /* named for its kind ("lstm_1"), or not ("encoder") */
        int plain = !strncmp(li.name, kind, strlen(kind));
        fprintf(stderr, "%s layer %d (%s%s%s)", skipped > 1 ? "," : "", l, li.name, plain ? "" : ", ", plain ? "" : kind);
    }
    if (skipped)
        fputc('\n', stderr);
}

/* ---- the run ---- */

static int build_layers(const train_args *a, const char *model_text, const char *init, int64_t n_classes,
                        nninit_layer_desc **layers, int *n_layers, nninit_shape *declared, int *keras)
{
    nninit_err err;
    nninit_status s;
    declared->ndim = 0;
    *keras = 0;
    if (a->torch || model_text) {
        s = a->torch ? nninit_net_desc_parse_torch(a->torch, layers, n_layers, &err)
                     : nninit_net_desc_parse_json_shaped(model_text, layers, n_layers, declared, keras, &err);
        if (s == NNINIT_OK && init)
            for (int i = 0; i < *n_layers; i++)
                if ((*layers)[i].kind == NNINIT_LAYER_DENSE || (*layers)[i].kind == NNINIT_LAYER_CONV2D) {
                    if (strlen(init) >= NNINIT_SPEC_MAX) {
                        cli_error("initializer '%.40s...': too long; at most %d bytes", init, NNINIT_SPEC_MAX - 1);
                        nninit_free(*layers);
                        return CLI_EXIT_USAGE;
                    }
                    strcpy((*layers)[i].kernel_init, init);
                }
    } else {
        nninit_mlp_desc m = nninit_mlp_desc_default();
        m.n_hidden = a->n_hidden;
        m.hidden = a->hidden;
        m.n_outputs = n_classes;
        m.kernel_init = init;
        m.bias_init = a->bias_init;
        m.bn = a->bn;
        m.dropout = a->dropout;
        s = nninit_act_parse(a->act, &m.act, &m.alpha, &err);
        if (s == NNINIT_OK && m.act == NNINIT_ACT_SOFTMAX)
            s = NNINIT_EINVAL, snprintf(err.msg, sizeof err.msg, "--act softmax: not a hidden activation; "
                                                                 "expected relu, tanh, ...");
        if (s == NNINIT_OK)
            s = nninit_net_desc_mlp(&m, layers, n_layers, &err);
    }
    if (s != NNINIT_OK)
        return cli_report(s, &err);
    /* A final softmax is folded into the cross-entropy, which takes logits. */
    nninit_layer_desc *last = &(*layers)[*n_layers - 1];
    if (a->topts.loss == NNINIT_LOSS_SOFTMAX_CE && last->act == NNINIT_ACT_SOFTMAX &&
        (last->kind == NNINIT_LAYER_DENSE || last->kind == NNINIT_LAYER_ACTIVATION)) {
        if (last->kind == NNINIT_LAYER_ACTIVATION && *n_layers > 1)
            (*n_layers)--;
        else
            last->act = NNINIT_ACT_LINEAR;
    }
    return CLI_EXIT_OK;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    a->topts = nninit_train_opts_default();
    a->act = "relu";
    a->seed = NNINIT_DEFAULT_SEED;
    a->hidden[0] = a->hidden[1] = 256;
    a->n_hidden = 2;
    a->layout = "keras";
    const char *layout_given = NULL;
    nninit_err err;
    /* ids are positions in this table, 1-based */
    static const cli_opt options[] = {
        {"--bn", NULL, 0, 1},
        {"--lsuv", NULL, 0, 2},
        {"--json", NULL, 0, 3},
        {"--standardize", NULL, 0, 4},
        {"--nesterov", NULL, 0, 5},
        {"--quiet", NULL, 0, 6},
        {"--data", NULL, 1, 7},
        {"--model", NULL, 1, 8},
        {"--layers", NULL, 1, 9},
        {"--act", NULL, 1, 10},
        {"--init", NULL, 1, 11},
        {"--bias-init", NULL, 1, 12},
        {"--layout", NULL, 1, 13},
        {"--dropout", NULL, 1, 14},
        {"--val", NULL, 1, 15},
        {"--limit", NULL, 1, 16},
        {"--optimizer", NULL, 1, 17},
        {"--lr", NULL, 1, 18},
        {"--momentum", NULL, 1, 19},
        {"--weight-decay", NULL, 1, 20},
        {"--schedule", NULL, 1, 21},
        {"--step-epochs", NULL, 1, 22},
        {"--gamma", NULL, 1, 23},
        {"--lr-min", NULL, 1, 24},
        {"--loss", NULL, 1, 25},
        {"--batch", NULL, 1, 26},
        {"--epochs", NULL, 1, 27},
        {"--seed", NULL, 1, 28},
        {"--threads", NULL, 1, 29},
        {"--log", NULL, 1, 30},
        {"--compare", NULL, 1, 31},
        {"--data-dir", NULL, 1, 32},
        {"--monitor", NULL, 1, 33},
        {"--monitor-log", NULL, 1, 34},
        {"--init-out", NULL, 1, 35},
        {"--torch", NULL, 1, 36},
        {"--seq-len", NULL, 1, 37},
        {"--clip-norm", NULL, 1, 38},
        {"--wn-init", NULL, 0, 39},
        {0}};
    cli_args args;
    cli_args_init(&args, "train", argc, argv, options, usage);
    for (int id; (id = cli_next(&args)) != CLI_END;) {
        const char *o = args.opt, *v = args.val;
        int ok = 1;
        nninit_status s = NNINIT_OK;
        if (id == CLI_STOP)
            return args.rc == CLI_EXIT_OK ? -1 : args.rc;
        if (id == CLI_ARG)
            return cli_unexpected(&args, v, NULL);
        if (!strcmp(o, "--bn"))
            a->bn = 1;
        else if (!strcmp(o, "--lsuv"))
            a->lsuv = 1;
        else if (!strcmp(o, "--wn-init"))
            a->wn_init = 1;
        else if (!strcmp(o, "--json"))
            a->json = 1;
        else if (!strcmp(o, "--standardize"))
            a->standardize = 1;
        else if (!strcmp(o, "--nesterov"))
            a->topts.optim.nesterov = 1;
        else if (!strcmp(o, "--quiet"))
            a->quiet = 1;
        else {
            if (!strcmp(o, "--data"))
                a->data = v;
            else if (!strcmp(o, "--data-dir"))
                a->data_dir = v;
            else if (!strcmp(o, "--monitor"))
                ok = cli_parse_int("--monitor", v, 1, 1000000000, &a->monitor_every);
            else if (!strcmp(o, "--monitor-log"))
                a->monitor_path = v;
            else if (!strcmp(o, "--init-out"))
                a->init_out = v;
            else if (!strcmp(o, "--model"))
                a->model_path = v;
            else if (!strcmp(o, "--torch"))
                a->torch = v;
            else if (!strcmp(o, "--seq-len")) {
                int n = 0;
                ok = cli_parse_int("--seq-len", v, 2, 1000000, &n);
                a->seq_len = n;
            }
            else if (!strcmp(o, "--layers"))
                ok = parse_widths(v, a);
            else if (!strcmp(o, "--act"))
                a->act = v;
            else if (!strcmp(o, "--init"))
                a->init = v;
            else if (!strcmp(o, "--bias-init"))
                a->bias_init = v;
            else if (!strcmp(o, "--layout"))
                a->layout = layout_given = v;
            else if (!strcmp(o, "--dropout"))
                ok = cli_parse_double("--dropout", v, &a->dropout);
            else if (!strcmp(o, "--val"))
                ok = cli_parse_double("--val", v, &a->val);
            else if (!strcmp(o, "--limit")) {
                int n = 0;
                ok = cli_parse_int("--limit", v, 1, 2000000000, &n);
                a->limit = n;
            } else if (!strcmp(o, "--optimizer"))
                s = nninit_optimizer_parse(v, &a->topts.optim.kind, &err);
            else if (!strcmp(o, "--lr"))
                ok = cli_parse_double("--lr", v, &a->topts.optim.lr);
            else if (!strcmp(o, "--momentum"))
                ok = cli_parse_double("--momentum", v, &a->topts.optim.momentum);
            else if (!strcmp(o, "--weight-decay"))
                ok = cli_parse_double("--weight-decay", v, &a->topts.optim.weight_decay);
            else if (!strcmp(o, "--clip-norm"))
                ok = cli_parse_double("--clip-norm", v, &a->topts.optim.clip_norm);
            else if (!strcmp(o, "--schedule"))
                s = nninit_schedule_parse(v, &a->topts.schedule, &err);
            else if (!strcmp(o, "--step-epochs"))
                ok = cli_parse_int("--step-epochs", v, 1, 1000000, &a->topts.step_epochs);
            else if (!strcmp(o, "--gamma"))
                ok = cli_parse_double("--gamma", v, &a->topts.step_gamma);
            else if (!strcmp(o, "--lr-min"))
                ok = cli_parse_double("--lr-min", v, &a->topts.lr_min);
            else if (!strcmp(o, "--loss")) {
                s = nninit_loss_parse(v, &a->topts.loss, &err);
                a->loss_given = 1;
            }
            else if (!strcmp(o, "--batch")) {
                int n = 0;
                ok = cli_parse_int("--batch", v, 1, 1048576, &n);
                a->topts.batch = n;
            } else if (!strcmp(o, "--epochs"))
                ok = cli_parse_int("--epochs", v, 1, 100000, &a->topts.epochs);
            else if (!strcmp(o, "--seed"))
                ok = cli_parse_u64("--seed", v, &a->seed);
            else if (!strcmp(o, "--threads"))
                ok = cli_parse_threads(v, &a->topts.threads);
            else if (!strcmp(o, "--log"))
                a->log_path = v;
            else if (!strcmp(o, "--compare"))
                a->compare = v;
        }
        if (s != NNINIT_OK)
            return cli_report(s, &err);
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (a->val != 0.0 && !(a->val > 0.0 && a->val < 1.0)) {
        cli_error("--val %g: expected a fraction in (0, 1)", a->val);
        return CLI_EXIT_USAGE;
    }
    if (!(a->dropout >= 0.0 && a->dropout < 1.0)) {
        cli_error("--dropout %g: expected 0 <= rate < 1", a->dropout);
        return CLI_EXIT_USAGE;
    }
    if (a->model_path && a->torch) {
        cli_error("--torch: one model at a time; drop --model or --torch");
        return CLI_EXIT_USAGE;
    }
    if ((a->model_path || a->torch) && (a->bn || a->dropout > 0.0 || a->bias_init)) {
        cli_error("%s: the %s describes the layers; drop --bn, --dropout and --bias-init (--init still "
                  "overrides every kernel)", a->torch ? "--torch" : "--model", a->torch ? "recipe" : "file");
        return CLI_EXIT_USAGE;
    }
    if (a->torch) {
        if (layout_given && strcmp(layout_given, "torch")) {
            cli_error("--layout %s: a recipe is initialized in PyTorch's layout; drop --layout", layout_given);
            return CLI_EXIT_USAGE;
        }
        a->layout = "torch";
    }
    if (a->monitor_every && !a->monitor_path) {
        cli_error("--monitor %d: give --monitor-log FILE for the JSON lines", a->monitor_every);
        return CLI_EXIT_USAGE;
    }
    if (a->monitor_every && a->compare) {
        cli_error("--monitor: not with --compare (one log per run); monitor one initializer at a time");
        return CLI_EXIT_USAGE;
    }
    if (a->init_out && ((!a->model_path && !a->torch) || a->compare)) {
        cli_error("--init-out: needs --model (a Keras model) or --torch, and no --compare");
        return CLI_EXIT_USAGE;
    }
    /* a sequence set: its steps and what the network sees of a sequence */
    static const struct {
        const char *name;
        int64_t steps, features; /* features 0: token ids */
    } seqs[] = {{"fortunes", 64, 0}, {"copy", 30, 0}, {"adding", 50, 2}};
    for (size_t k = 0; a->data && k < sizeof seqs / sizeof seqs[0]; k++)
        if (!strcmp(a->data, seqs[k].name)) {
            a->seq = seqs[k].name;
            a->data = NULL;
            int64_t T = a->seq_len ? a->seq_len : seqs[k].steps;
            if (k == 1 && T < 21) {
                cli_error("--seq-len %lld: copy memory has delay + 20 steps, delay >= 1; expected >= 21", (long long)T);
                return CLI_EXIT_USAGE;
            }
            nninit_shape v = {seqs[k].features ? 2 : 1, {T, seqs[k].features}};
            a->seq_view = v;
            if (k == 2 && !a->loss_given)
                a->topts.loss = NNINIT_LOSS_MSE; /* a real target */
        }
    if (a->seq_len && !a->seq) {
        cli_error("--seq-len: only with a sequence set (--data fortunes, copy or adding)");
        return CLI_EXIT_USAGE;
    }
    if (a->seq && (a->standardize || a->lsuv || a->wn_init)) { /* --val splits sequences as it splits images */
        cli_error("--data %s: %s takes image pixels, and %s gives %s; drop it", a->seq,
                  a->standardize ? "--standardize" : a->lsuv ? "--lsuv" : "--wn-init", a->seq,
                  strcmp(a->seq, "adding") ? "token ids (an embedding's input)" : "a value and a 0/1 marker per step");
        return CLI_EXIT_USAGE;
    }
    if (a->lsuv && a->wn_init) {
        cli_error("--wn-init: two data-dependent inits with --lsuv; give one of them");
        return CLI_EXIT_USAGE;
    }
    if (a->seq && a->data_dir && strcmp(a->seq, "fortunes")) {
        cli_error("--data-dir: %s is generated from the seed; only fortunes reads a folder", a->seq);
        return CLI_EXIT_USAGE;
    }
    if (a->seq) {
        a->topts.seed = a->seed;
        return CLI_EXIT_OK;
    }
    /* a named set: its view and the default folder; anything else is a folder of flat rows */
    static const struct {
        const char *name, *view;
    } sets[] = {{"fashion-mnist", "flat"}, {"fashion-mnist-images", "images"}, {"fashion-mnist-rows", "rows"}};
    for (size_t k = 0; a->data && k < sizeof sets / sizeof sets[0]; k++)
        if (!strcmp(a->data, sets[k].name)) {
            a->view = sets[k].view;
            a->data = a->data_dir;
            break;
        }
    if (!a->view && a->data_dir) {
        if (a->data) {
            cli_error("--data-dir: only with a named set (--data fashion-mnist...); --data %s is a folder already",
                      a->data);
            return CLI_EXIT_USAGE;
        }
        a->data = a->data_dir;
    }
    a->topts.seed = a->seed;
    return CLI_EXIT_OK;
}

/* A sequence set: train and test as data sets (token ids as floats). The
 * generated sets draw the test sequences from the seed's next value, so they
 * never share the training sequences' Philox stream position. */
static int load_seq(const train_args *a, nninit_dataset *train, nninit_dataset *test)
{
    nninit_err err;
    nninit_seqset s[2];
    memset(s, 0, sizeof s);
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int64_t T = a->seq_view.dim[0], n = a->limit > 0 ? a->limit : 20000;
    nninit_status st = NNINIT_OK;
    if (!strcmp(a->seq, "fortunes")) {
        nninit_text text[2];
        memset(text, 0, sizeof text);
        st = nninit_fortunes_load(a->data_dir, &text[0], &text[1], &err);
        for (int k = 0; k < 2 && st == NNINIT_OK; k++)
            st = nninit_text_windows(&text[k], T, T, &s[k], &err);
        nninit_text_free(&text[0]);
        nninit_text_free(&text[1]);
        if (st == NNINIT_OK && a->limit > 0 && a->limit < s[0].n)
            s[0].n = a->limit;
    } else if (!strcmp(a->seq, "copy")) {
        st = nninit_copy_memory(n, T - 20, a->seed, &s[0], &err);
        if (st == NNINIT_OK)
            st = nninit_copy_memory(2000, T - 20, a->seed + 1, &s[1], &err);
    } else {
        st = nninit_adding_problem(n, T, a->seed, &s[0], &err);
        if (st == NNINIT_OK)
            st = nninit_adding_problem(2000, T, a->seed + 1, &s[1], &err);
    }
    if (st == NNINIT_OK)
        st = nninit_dataset_from_seqset(&s[0], train, &err);
    if (st == NNINIT_OK)
        st = nninit_dataset_from_seqset(&s[1], test, &err);
    nninit_seqset_free(&s[0]);
    nninit_seqset_free(&s[1]);
    if (st != NNINIT_OK) {
        nninit_dataset_free(train);
        nninit_dataset_free(test);
        cli_report(st, &err);
        return st == NNINIT_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int load_data(const train_args *a, nninit_dataset *train, nninit_dataset *val, nninit_dataset *test)
{
    nninit_err err;
    if (a->seq) {
        int rc = load_seq(a, train, test);
        nninit_status s = NNINIT_OK;
        if (rc == CLI_EXIT_OK && a->val > 0.0 && (s = nninit_dataset_split(train, a->val, a->seed, val, &err)) !=
                                                     NNINIT_OK) {
            nninit_dataset_free(train);
            nninit_dataset_free(test);
            return cli_report(s, &err) == CLI_EXIT_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        }
        return rc;
    }
    nninit_status s = nninit_dataset_load(a->data, "train", train, &err);
    if (s == NNINIT_OK)
        s = nninit_dataset_load(a->data, "t10k", test, &err);
    if (s == NNINIT_OK && a->limit > 0 && a->limit < train->n)
        train->n = a->limit;
    if (s == NNINIT_OK && test->dim != train->dim)
        s = NNINIT_EFORMAT, snprintf(err.msg, sizeof err.msg, "data: training images have %lld pixels, test images "
                                     "%lld; expected the same", (long long)train->dim, (long long)test->dim);
    if (s == NNINIT_OK && a->standardize)
        s = nninit_dataset_standardize(train, test, NULL, NULL, &err);
    if (s == NNINIT_OK && a->val > 0.0)
        s = nninit_dataset_split(train, a->val, a->seed, val, &err);
    if (s != NNINIT_OK) {
        nninit_dataset_free(train);
        nninit_dataset_free(test);
        return cli_report(s, &err) == CLI_EXIT_USAGE && s != NNINIT_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* The network's input: the model's declared shape, else the data view's,
 * else flat rows of dim. *data_shape gets what the data must be seen as. */
static int input_shape(const train_args *a, const nninit_shape *declared, int64_t dim, nninit_shape *out)
{
    nninit_dataset probe;
    memset(&probe, 0, sizeof probe);
    probe.dim = dim;
    nninit_shape flat = {1, {dim}}, seen = flat;
    nninit_err err;
    if (a->view && nninit_dataset_view(&probe, a->view, &seen, &err) != NNINIT_OK)
        return cli_report(NNINIT_EINVAL, &err);
    const nninit_shape *view = a->seq ? &a->seq_view : &seen;
    if (declared->ndim == 0) {
        *out = *view;
        return CLI_EXIT_OK;
    }
    int64_t n = 1;
    for (int d = 0; d < declared->ndim; d++)
        n *= declared->dim[d];
    int same = declared->ndim == view->ndim && !memcmp(declared->dim, view->dim, (size_t)view->ndim * sizeof view->dim[0]);
    if (n != dim || ((a->view || a->seq) && !same)) {
        cli_error("%s: the model takes inputs of %lld values (%d-D), the data gives %s rows of %lld; use --data "
                  "with the model's view (fashion-mnist-images for (28, 28, 1), fashion-mnist-rows for (28, 28))",
                  a->model_path, (long long)n, declared->ndim, a->seq ? a->seq : a->view ? a->view : "flat",
                  (long long)dim);
        return CLI_EXIT_USAGE;
    }
    *out = *declared;
    return CLI_EXIT_OK;
}

/* --monitor: one JSON line per layer per monitored step, appended and flushed. */
typedef struct monitor_state {
    FILE *f;
    const char *label;
} monitor_state;

static void on_monitor(int epoch, int64_t step, double loss, const nninit_layer_stats *st, int n, void *user)
{
    monitor_state *m = ((run_state *)user)->monitor;
    for (int i = 0; m && m->f && i < n; i++) {
        fprintf(m->f, "{\"epoch\": %d, \"step\": %lld, \"loss\": ", epoch, (long long)step);
        cli_json_num(m->f, 9, loss);
        fprintf(m->f, ", \"layer\": %d, \"name\": ", st[i].layer);
        cli_json_str(m->f, st[i].name);
        const char *keys[] = {"act_mean", "act_var", "frac_dead", "frac_saturated", "grad_norm", "weight_norm",
                              "update_ratio"};
        double vals[] = {st[i].act_mean,  st[i].act_var,     st[i].frac_dead,   st[i].frac_saturated,
                         st[i].grad_norm, st[i].weight_norm, st[i].update_ratio};
        for (int k = 0; k < 7; k++) {
            fprintf(m->f, ", \"%s\": ", keys[k]);
            cli_json_num(m->f, 9, vals[k]);
        }
        fputs("}\n", m->f);
    }
    if (m && m->f)
        fflush(m->f);
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (a.log_path && !cli_output_dir_ok("--log", a.log_path))
        return CLI_EXIT_FAIL;
    if (a.monitor_path && !cli_output_dir_ok("--monitor-log", a.monitor_path))
        return CLI_EXIT_FAIL;
    if (a.init_out && !(init_out_format(a.init_out) == NNINIT_FORMAT_NPY_DIR ? cli_output_folder_ok("--init-out", a.init_out)
                                                                              : cli_output_dir_ok("--init-out", a.init_out)))
        return CLI_EXIT_FAIL; /* the outputs before the data load and the init, as --log */
    nninit_err err;
    nninit_layout layout;
    nninit_status s = nninit_layout_parse(a.layout, &layout, &err);
    if (s != NNINIT_OK)
        return cli_report(s, &err);
    char *model_text = NULL;
    if (a.model_path) {
        model_text = read_text_file(a.model_path);
        if (!model_text) {
            cli_error("%s: cannot read the model file (%s)", a.model_path, strerror(errno));
            return CLI_EXIT_FAIL; /* a missing input file is a runtime failure */
        }
    }
    char *specs[MAX_COMPARE];
    char *compare_buf = NULL;
    int n_runs = 1;
    specs[0] = (char *)(uintptr_t)a.init;
    if (a.compare) {
        compare_buf = strdup(a.compare);
        n_runs = compare_buf ? split_specs(compare_buf, specs, MAX_COMPARE) : -1;
        if (n_runs < 1) {
            cli_error("--compare '%s': expected 1 .. %d comma-separated initializers", a.compare, MAX_COMPARE);
            free(compare_buf);
            free(model_text);
            return CLI_EXIT_USAGE;
        }
    }
    /* Check every model before the (slow) data load, so a typo fails at once. */
    for (int r = 0; r < n_runs; r++) {
        nninit_layer_desc *layers = NULL;
        int n_layers = 0;
        nninit_shape declared, in_shape;
        int keras = 0;
        rc = build_layers(&a, model_text, specs[r], 10, &layers, &n_layers, &declared, &keras);
        if (rc == CLI_EXIT_OK && keras && layout != NNINIT_LAYOUT_KERAS) {
            cli_error("--layout torch: a Keras model is initialized in Keras' layout; drop --layout");
            rc = CLI_EXIT_USAGE;
        }
        if (rc == CLI_EXIT_OK && a.init_out && !keras && !a.torch) {
            cli_error("--init-out: %s is nninit's layer list, not a Keras model; the tensor names come from a Keras "
                      "model or a --torch recipe (drop --init-out, or give one of those)", a.model_path);
            rc = CLI_EXIT_USAGE;
        }
        /* named sets have 784 values a row; a folder's rows are known after loading (checked then) */
        int64_t numel = 1;
        for (int d = 0; d < declared.ndim; d++)
            numel *= declared.dim[d];
        int precheck = declared.ndim > 0 || !a.data || (!model_text && !a.torch); /* an MLP takes any width */
        if (rc == CLI_EXIT_OK && precheck)
            rc = input_shape(&a, &declared,
                             declared.ndim ? numel : a.seq ? a.seq_view.dim[0] * (a.seq_view.ndim > 1 ? a.seq_view.dim[1] : 1)
                                                           : 784,
                             &in_shape);
        if (rc == CLI_EXIT_OK && precheck) {
            nninit_net *net = NULL;
            nninit_net_opts no = nninit_net_opts_default();
            no.layout = layout;
            s = nninit_net_new_shaped(&in_shape, layers, n_layers, &no, &net, &err);
            nninit_net_free(net);
            if (s != NNINIT_OK)
                rc = cli_report(s, &err);
        }
        nninit_free(layers);
        if (rc != CLI_EXIT_OK) {
            free(compare_buf);
            free(model_text);
            return rc;
        }
    }
    nninit_dataset train, val, test;
    memset(&val, 0, sizeof val);
    rc = load_data(&a, &train, &val, &test);
    if (rc != CLI_EXIT_OK) {
        free(compare_buf);
        free(model_text);
        return rc;
    }
    nninit_epoch_stats *hist[MAX_COMPARE];
    int done[MAX_COMPARE] = {0};
    int64_t n_params[MAX_COMPARE] = {0};
    char diverged[MAX_COMPARE][256] = {{0}};
    memset(hist, 0, sizeof hist);
    for (int r = 0; r < n_runs && rc == CLI_EXIT_OK; r++) {
        done[r] = 0;
        diverged[r][0] = '\0';
        hist[r] = calloc((size_t)a.topts.epochs, sizeof *hist[r]);
        nninit_layer_desc *layers = NULL;
        int n_layers = 0;
        nninit_net *net = NULL;
        if (!hist[r]) {
            cli_error("out of memory");
            rc = CLI_EXIT_FAIL;
            break;
        }
        nninit_shape declared, in_shape;
        int keras = 0;
        rc = build_layers(&a, model_text, specs[r], train.n_classes, &layers, &n_layers, &declared, &keras);
        if (rc == CLI_EXIT_OK)
            rc = input_shape(&a, &declared, train.dim, &in_shape);
        if (rc != CLI_EXIT_OK) {
            nninit_free(layers);
            break;
        }
        nninit_net_opts no = nninit_net_opts_default();
        no.seed = a.seed;
        no.layout = layout;
        s = nninit_net_new_shaped(&in_shape, layers, n_layers, &no, &net, &err);
        nninit_free(layers);
        nninit_model *km = NULL;
        nninit_lsuv_layer *lsuv_rep = NULL; /* --lsuv's report, printed after the model line */
        if (s == NNINIT_OK && keras) {
            /* the values `nninit model --keras FILE --seed N` writes, bit for bit */
            s = nninit_model_from_keras(model_text, &km, &err);
            if (s == NNINIT_OK)
                s = cli_net_init_from_model(net, km, a.seed, NNINIT_LAYOUT_KERAS, specs[r], &err);
            if (s != NNINIT_OK) {
                nninit_net_free(net);
                net = NULL;
            }
        } else if (s == NNINIT_OK && a.torch) {
            /* the values `nninit model --torch RECIPE --seed N` writes, bit for bit */
            s = nninit_model_from_torch(a.torch, &km, &err);
            if (s == NNINIT_OK)
                s = cli_net_init_from_model(net, km, a.seed, NNINIT_LAYOUT_TORCH, specs[r], &err);
            if (s != NNINIT_OK) {
                nninit_net_free(net);
                net = NULL;
            }
        }
        if (s == NNINIT_OK && a.lsuv) {
            nninit_lsuv_opts lo = nninit_lsuv_opts_default();
            lsuv_rep = calloc((size_t)nninit_net_n_layers(net) + 1, sizeof *lsuv_rep);
            s = lsuv_rep ? nninit_lsuv(net, train.x, train.n < 512 ? train.n : 512, &lo, lsuv_rep, &err)
                         : nninit_err_set(&err, NNINIT_ENOMEM, "out of memory");
            if (s != NNINIT_OK)
                nninit_net_free(net);
        }
        if (s == NNINIT_OK && a.wn_init) {
            nninit_wn_init_opts wo = nninit_wn_init_opts_default();
            s = nninit_wn_init(net, train.x, train.n < 512 ? train.n : 512, &wo, NULL, &err);
            if (s != NNINIT_OK)
                nninit_net_free(net);
        }
        if (s == NNINIT_OK && a.init_out) {
            nninit_file_format fmt = init_out_format(a.init_out);
            if (!km)
                s = nninit_err_set(&err, NNINIT_EINVAL, "--init-out: %s is not a Keras model; the tensor names come "
                                   "from one", a.model_path);
            else
                s = cli_net_write_tensors(net, km, a.init_out, fmt, &err);
            if (s != NNINIT_OK)
                nninit_net_free(net);
        }
        nninit_model_free(km);
        if (s != NNINIT_OK) {
            free(lsuv_rep);
            rc = cli_report(s, &err);
            break;
        }
        if (r == 0 && !a.quiet)
            print_model(net, &train, a.val > 0.0 ? &val : NULL, &test);
        if (lsuv_rep && !a.quiet)
            print_lsuv(net, lsuv_rep, a.compare ? specs[r] : NULL);
        free(lsuv_rep);
        n_params[r] = nninit_net_n_params(net);
        run_state st = {&a, hist[r], 0, a.val > 0.0, 1, NULL, cli_stderr_is_tty(), a.compare ? specs[r] : NULL, NULL};
        st.lines = a.quiet || a.compare ? NULL : a.json ? stderr : stdout;
        nninit_train_opts to = a.topts;
        to.on_epoch = on_epoch;
        to.on_step = on_step;
        to.user = &st;
        monitor_state mon = {NULL, NULL};
        if (a.monitor_every) {
            mon.f = fopen(a.monitor_path, "a");
            if (!mon.f) {
                cli_error("%s: cannot open the monitor log (%s); expected a writable file", a.monitor_path,
                          strerror(errno));
                nninit_net_free(net);
                rc = CLI_EXIT_FAIL;
                break;
            }
            st.monitor = &mon;
            to.monitor_every = a.monitor_every;
            to.on_monitor = on_monitor;
        }
        if (a.compare && !a.quiet)
            fprintf(stderr, "nninit: training with %s\n", specs[r]);
        s = nninit_train(net, &train, a.val > 0.0 ? &val : NULL, &test, &to, hist[r], &err);
        nninit_net_free(net);
        if (mon.f) {
            if (s == NNINIT_ENUMERIC) { /* the log says how it ended, for a reader following it */
                fputs("{\"diverged\": ", mon.f);
                cli_json_str(mon.f, err.msg);
                fputs("}\n", mon.f);
            }
            if (fclose(mon.f) != 0 && s == NNINIT_OK) {
                cli_error("%s: writing the monitor log failed", a.monitor_path);
                rc = CLI_EXIT_FAIL;
            }
        }
        done[r] = st.done;
        if (s == NNINIT_ENUMERIC && a.compare) {
            snprintf(diverged[r], sizeof diverged[r], "%.255s", err.msg); /* the table's note; the error line has it all */
            cli_error("%s: %s", specs[r], err.msg);
        } else if (s != NNINIT_OK) {
            if (s == NNINIT_ENUMERIC)
                snprintf(diverged[r], sizeof diverged[r], "%.255s", err.msg); /* the table's note; the error line has it all */
            rc = cli_report(s, &err);
            n_runs = r + 1;
        }
    }
    /* a diverged run still reports what it did (and its "diverged" field) */
    if (rc == CLI_EXIT_OK || done[0] > 0 || diverged[0][0]) {
        if (a.log_path && !write_log(a.log_path, a.compare ? specs : NULL, hist, done, n_runs) && rc == CLI_EXIT_OK)
            rc = CLI_EXIT_FAIL;
        if (a.compare && !a.json && rc == CLI_EXIT_OK) {
            /* side-by-side table: test accuracy per epoch, then summary rows */
            int cw[MAX_COMPARE]; /* each column as wide as its spec, within reason */
            for (int r = 0; r < n_runs; r++) {
                int len = (int)strlen(specs[r]);
                cw[r] = len < 9 ? 9 : len > 60 ? 60 : len;
            }
            printf("%-12s", "test_acc");
            for (int r = 0; r < n_runs; r++)
                printf("  %*.*s", cw[r], cw[r], specs[r]);
            printf("\n");
            for (int e = 0; e < a.topts.epochs; e++) {
                printf("epoch %-6d", e + 1);
                for (int r = 0; r < n_runs; r++)
                    e < done[r] ? printf("  %*.4f", cw[r], hist[r][e].test_acc) : printf("  %*s", cw[r], "diverged");
                printf("\n");
            }
            const char *rows[] = {"train_loss", "train_acc", "s/epoch"};
            for (int k = 0; k < 3; k++) {
                printf("%-12s", rows[k]);
                for (int r = 0; r < n_runs; r++) {
                    if (!done[r]) {
                        printf("  %*s", cw[r], "-");
                        continue;
                    }
                    const nninit_epoch_stats *h = &hist[r][done[r] - 1];
                    double sec = 0.0;
                    for (int e = 0; e < done[r]; e++)
                        sec += hist[r][e].seconds;
                    printf("  %*.4f", cw[r], k == 0 ? h->train_loss : k == 1 ? h->train_acc : sec / done[r]);
                }
                printf("\n");
            }
        }
        if (a.json) {
            fputs("{\"command\": \"train\", \"seed\": ", stdout);
            printf("%llu, \"epochs\": %d, \"batch\": %lld, \"optimizer\": ", (unsigned long long)a.seed,
                   a.topts.epochs, (long long)a.topts.batch);
            cli_json_str(stdout, nninit_optimizer_name(a.topts.optim.kind));
            fputs(", \"lr\": ", stdout);
            cli_json_num(stdout, 9, a.topts.optim.lr);
            fputs(", \"runs\": [", stdout);
            for (int r = 0; r < n_runs; r++) {
                fputs(r ? ", {\"init\": " : "{\"init\": ", stdout);
                if (specs[r])
                    cli_json_str(stdout, specs[r]);
                else
                    fputs(a.model_path || a.torch ? "null" : "\"glorot_uniform\"", stdout);
                printf(", \"params\": %lld, \"history\": ", (long long)n_params[r]);
                json_history(stdout, hist[r], done[r]);
                fputs(", \"final_test_acc\": ", stdout);
                cli_json_num(stdout, 9, done[r] && !diverged[r][0] ? hist[r][done[r] - 1].test_acc : (double)NAN);
                fputs(", \"diverged\": ", stdout);
                if (diverged[r][0])
                    cli_json_str(stdout, diverged[r]);
                else
                    fputs("null", stdout);
                fputc('}', stdout);
            }
            fputs("]", stdout);
            if (!a.compare) {
                fputs(", \"final_test_acc\": ", stdout);
                cli_json_num(stdout, 9, done[0] && !diverged[0][0] ? hist[0][done[0] - 1].test_acc : (double)NAN);
            }
            fputs("}\n", stdout);
        }
    }
    for (int r = 0; r < MAX_COMPARE; r++)
        free(hist[r]);
    free(compare_buf);
    free(model_text);
    nninit_dataset_free(&train);
    nninit_dataset_free(&val);
    nninit_dataset_free(&test);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        cli_error("stdout: write failed");
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}
