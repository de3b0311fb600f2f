/* Epoch timer for the benchmark recipe (784-256-256-10 ReLU, He-normal, SGD
 * momentum 0.9, batch 128, Fashion-MNIST): one training epoch at a time, so
 * that bench/train_vs_torch.py can alternate nninit and PyTorch epochs on a
 * shared machine with the data already loaded on both sides.
 *
 *   train_epochs [--threads T] [--lr X]            two epochs, one line each
 *   train_epochs --serve [--threads T] [--lr X]    reads a count per stdin line,
 *       trains that many epochs, prints "seconds cpu_seconds test_acc" per epoch
 *
 * Without the data set it says so and exits 0 (make bench must not fail on it). */
#include "nninit.h"
#include "nninit_data.h"
#include "nninit_model.h"
#include "nninit_nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    int serve = 0, threads = 1;
    double lr = 0.05;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--serve"))
            serve = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--lr") && i + 1 < argc)
            lr = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: train_epochs [--serve] [--threads T] [--lr X]\n");
            return 2;
        }
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
    if (nninit_model_mlp(&m, &layers, &n_layers, &err) != NNINIT_OK ||
        nninit_net_new(tr.dim, layers, n_layers, NULL, &net, &err) != NNINIT_OK) {
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
    if (serve) {
        char line[64];
        while (ok && fgets(line, sizeof line, stdin))
            ok = run_epochs(net, &tr, &te, &o, atoi(line));
    } else {
        ok = run_epochs(net, &tr, &te, &o, 2);
    }
    nninit_net_free(net);
    nninit_dataset_free(&tr);
    nninit_dataset_free(&te);
    return ok ? 0 : 1;
}
