/* Where Keras 3 model.save_weights puts each variable of a Sequential or
 * Functional model (keras/src/saving/saving_lib.py, Keras 3.16): the model
 * visits `model.layers` in order and names each layer of the container by
 * its class in snake case, numbered from the second of a class on
 * ("dense", "dense_1"); a layer's sublayers are visited as the attributes
 * holding them (LSTM.cell, Bidirectional.forward_layer/backward_layer,
 * TimeDistributed.layer, SpectralNormalization.layer,
 * MultiHeadAttention.query_dense, ...), and a
 * layer's own variables are stored as vars/0, vars/1, ... in the order
 * trainable then non-trainable, each in creation order. So the Dense kernel
 * of a model is "layers/dense/vars/0" whatever the layer's name. */
#include "model/internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* naming.to_snake_case: drop non-word characters; "_" before a capital that
 * starts a lowercase run and follows any character; "_" between a lowercase
 * letter and a capital; lowercase ("Conv2DTranspose" -> "conv2d_transpose",
 * "PReLU" -> "p_re_lu"). Each rule is one left-to-right, non-overlapping
 * pass, as re.sub does. */
void nninit__keras_snake_case(const char *cls, char *out, size_t cap)
{
    char a[256], b[512];
    size_t n = 0, m = 0;
    for (const char *p = cls; *p && n + 1 < sizeof a; p++)
        if (isalnum((unsigned char)*p) || *p == '_')
            a[n++] = *p;
    a[n] = '\0';
    for (size_t i = 0; i < n && m + 3 < sizeof b;) { /* (.)([A-Z][a-z]+) -> \1_\2 */
        if (i + 2 < n && isupper((unsigned char)a[i + 1]) && islower((unsigned char)a[i + 2])) {
            size_t j = i + 2;
            while (j < n && islower((unsigned char)a[j]))
                j++;
            b[m++] = a[i];
            b[m++] = '_';
            for (size_t k = i + 1; k < j && m + 1 < sizeof b; k++)
                b[m++] = a[k];
            i = j;
        } else {
            b[m++] = a[i++];
        }
    }
    b[m] = '\0';
    size_t o = 0;
    for (size_t i = 0; i < m && o + 3 < cap;) { /* ([a-z])([A-Z]) -> \1_\2 */
        if (i + 1 < m && islower((unsigned char)b[i]) && isupper((unsigned char)b[i + 1])) {
            out[o++] = b[i];
            out[o++] = '_';
            out[o++] = (char)tolower((unsigned char)b[i + 1]);
            i += 2;
        } else {
            out[o++] = (char)tolower((unsigned char)b[i++]);
        }
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
}

/* ---- model.layers order of a Functional model (keras/src/ops/function.py map_graph) ---- */

typedef struct graph {
    json_t *layers;
    size_t n;
    size_t **parents; /* per layer: indices of the layers its (first) call reads, in argument order */
    size_t *n_parents;
    int64_t *visit;   /* first-traversal index, -1 unseen */
    int64_t *depth;
    int *state;       /* 0 new, 1 in progress, 2 finished */
    nninit__strmap by_name; /* layer name -> its first index (a scan per lookup was O(n^2)) */
    size_t *post;     /* finished order */
    size_t n_post;
    int64_t next;
} graph;

static const char *graph_layer_name(const graph *g, size_t i)
{
    json_t *l = json_array_get(g->layers, i);
    const char *nm = json_string_value(json_object_get(json_object_get(l, "config"), "name"));
    return nm ? nm : json_string_value(json_object_get(l, "name"));
}

static size_t layer_index(const graph *g, const char *name)
{
    size_t i;
    return name && nninit__strmap_get(&g->by_name, name, &i) ? i : (size_t)-1;
}

/* A reached layer in Keras' order: depth descending, then first traversal. */
typedef struct ranked_layer {
    int64_t depth, visit;
    size_t i;
} ranked_layer;

static int cmp_ranked_layer(const void *a, const void *b)
{
    const ranked_layer *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    return (x->visit > y->visit) - (x->visit < y->visit);
}

/* tree.flatten order: lists in order, dicts by sorted key; a Keras 3
 * "__keras_tensor__" names its layer in keras_history[0]. */
static void collect(const graph *g, json_t *v, size_t *out, size_t *n, size_t cap, int depth)
{
    if (depth > 32 || *n >= cap)
        return;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            collect(g, json_array_get(v, i), out, n, cap, depth + 1);
    } else if (json_is_object(v)) {
        const char *cls = json_string_value(json_object_get(v, "class_name"));
        if (cls && !strcmp(cls, "__keras_tensor__")) {
            json_t *hist = json_object_get(json_object_get(v, "config"), "keras_history");
            size_t k = layer_index(g, json_string_value(json_array_get(hist, 0)));
            if (k != (size_t)-1)
                out[(*n)++] = k;
            return;
        }
        const char *keys[64];
        size_t nk = 0;
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val)
            if (nk < 64)
                keys[nk++] = key;
        for (size_t i = 1; i < nk; i++) /* insertion sort: few keys */
            for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
                const char *t = keys[j];
                keys[j] = keys[j - 1];
                keys[j - 1] = t;
            }
        for (size_t i = 0; i < nk; i++)
            collect(g, json_object_get(v, keys[i]), out, n, cap, depth + 1);
    }
}

#define MAX_PARENTS 64

static int parents_of(graph *g, size_t i)
{
    json_t *nodes = json_object_get(json_array_get(g->layers, i), "inbound_nodes");
    json_t *node = json_array_get(nodes, 0);
    size_t tmp[MAX_PARENTS], n = 0;
    if (json_is_object(node)) { /* Keras 3: {"args": [...], "kwargs": {...}} */
        collect(g, json_object_get(node, "args"), tmp, &n, MAX_PARENTS, 0);
        collect(g, json_object_get(node, "kwargs"), tmp, &n, MAX_PARENTS, 0);
    } else { /* Keras 2: [[name, node, tensor, kwargs], ...] */
        for (size_t k = 0; k < json_array_size(node) && n < MAX_PARENTS; k++) {
            size_t p = layer_index(g, json_string_value(json_array_get(json_array_get(node, k), 0)));
            if (p != (size_t)-1)
                tmp[n++] = p;
        }
    }
    g->parents[i] = n ? malloc(n * sizeof **g->parents) : NULL;
    if (n && !g->parents[i])
        return 0;
    if (n) /* memcpy's pointers must not be NULL even for 0 bytes */
        memcpy(g->parents[i], tmp, n * sizeof *tmp);
    g->n_parents[i] = n;
    return 1;
}

/* _build_map_helper: the first-traversal index before the parents, the
 * finished order after them; 0 on a cycle or too deep a graph. */
static int dfs(graph *g, size_t i, int depth)
{
    if (g->state[i] == 2)
        return 1;
    if (g->state[i] == 1 || depth > 10000)
        return 0;
    if (g->visit[i] < 0)
        g->visit[i] = g->next++;
    g->state[i] = 1;
    for (size_t k = 0; k < g->n_parents[i]; k++)
        if (!dfs(g, g->parents[i][k], depth + 1))
            return 0;
    g->state[i] = 2;
    g->post[g->n_post++] = i;
    return 1;
}

/* Output layer names: [["d", 0, 0], ...] or one ["d", 0, 0]. */
static void output_names(json_t *outs, const char **names, size_t *n, size_t cap)
{
    *n = 0;
    if (json_is_string(json_array_get(outs, 0))) {
        names[(*n)++] = json_string_value(json_array_get(outs, 0));
        return;
    }
    for (size_t i = 0; i < json_array_size(outs) && *n < cap; i++) {
        const char *nm = json_string_value(json_array_get(json_array_get(outs, i), 0));
        if (nm)
            names[(*n)++] = nm;
    }
}

/* order[0..n): config layer indices in Keras' model.layers order: by depth
 * from the outputs (deepest first), then first-traversal order; layers the
 * outputs do not reach (Keras drops them) come last, in config order. A
 * graph that cannot be ordered leaves the config order. */
static void functional_order(json_t *cfg, json_t *layers, size_t n, size_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    graph g;
    memset(&g, 0, sizeof g);
    g.layers = layers;
    g.n = n;
    g.parents = calloc(n, sizeof *g.parents);
    g.n_parents = calloc(n, sizeof *g.n_parents);
    g.visit = malloc(n * sizeof *g.visit);
    g.depth = malloc(n * sizeof *g.depth);
    g.state = calloc(n, sizeof *g.state);
    g.post = malloc(n * sizeof *g.post);
    int ok = g.parents && g.n_parents && g.visit && g.depth && g.state && g.post;
    for (size_t i = 0, first; ok && i < n; i++) {
        const char *nm = graph_layer_name(&g, i);
        ok = !nm || nninit__strmap_get(&g.by_name, nm, &first) || !nninit__strmap_put(&g.by_name, nm, i);
    }
    for (size_t i = 0; ok && i < n; i++) {
        g.visit[i] = -1;
        g.depth[i] = -1;
        ok = parents_of(&g, i);
    }
    const char *outs[256];
    size_t n_out = 0;
    if (ok)
        output_names(json_object_get(cfg, "output_layers"), outs, &n_out, 256);
    for (size_t k = 0; ok && k < n_out; k++) {
        size_t i = layer_index(&g, outs[k]);
        ok = i != (size_t)-1 && dfs(&g, i, 0);
    }
    if (ok && n_out) {
        for (size_t k = g.n_post; k-- > 0;) { /* reversed(nodes_in_decreasing_depth) */
            size_t i = g.post[k];
            if (g.depth[i] < 0)
                g.depth[i] = 0;
            for (size_t p = 0; p < g.n_parents[i]; p++) {
                size_t q = g.parents[i][p];
                if (g.depth[q] < g.depth[i] + 1)
                    g.depth[q] = g.depth[i] + 1;
            }
        }
        /* by (depth desc, visit asc), each reached layer's visit index being
         * unique; unreached last, in config order */
        ranked_layer *r = malloc((n ? n : 1) * sizeof *r);
        if (r) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (g.state[i] == 2 && g.depth[i] >= 0)
                    r[m++] = (ranked_layer){g.depth[i], g.visit[i], i};
            qsort(r, m, sizeof *r, cmp_ranked_layer);
            for (size_t k = 0; k < m; k++)
                order[k] = r[k].i;
            for (size_t i = 0; i < n; i++)
                if (!(g.state[i] == 2 && g.depth[i] >= 0))
                    order[m++] = i;
            free(r);
        }
    }
    nninit__strmap_free(&g.by_name);
    for (size_t i = 0; g.parents && i < n; i++)
        free(g.parents[i]);
    free(g.parents);
    free(g.n_parents);
    free(g.visit);
    free(g.depth);
    free(g.state);
    free(g.post);
}

/* ---- one layer's variables ---- */

static int is_rnn(const char *cls)
{
    return !strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU") || !strncmp(cls, "ConvLSTM", 8);
}

/* The attribute path of the sublayer holding a variable, from the scopes
 * between the layer name and the variable name ("lstm_cell" -> "cell");
 * NULL when nninit does not know where Keras keeps it. */
static const char *sub_attr(const char *cls, const char *scopes, const char *first_scope, char *buf, size_t cap)
{
    if (!scopes[0])
        return "";
    const char *slash = strchr(scopes, '/');
    size_t l0 = slash ? (size_t)(slash - scopes) : strlen(scopes);
    const char *rest = slash ? slash + 1 : "";
    if (is_rnn(cls) && !rest[0])
        return "cell/";
    if (!strcmp(cls, "MultiHeadAttention") && !rest[0]) {
        /* the public properties query_dense, ... (sorted before the private _query_dense, so they name it) */
        static const char *const map[][2] = {{"query", "query_dense/"}, {"key", "key_dense/"},
                                             {"value", "value_dense/"}, {"attention_output", "output_dense/"}};
        for (size_t i = 0; i < 4; i++)
            if (strlen(map[i][0]) == l0 && !strncmp(scopes, map[i][0], l0))
                return map[i][1];
        return NULL;
    }
    const char *attr = NULL;
    if (!strcmp(cls, "Bidirectional"))
        attr = !strncmp(scopes, first_scope, l0) && first_scope[l0] == '\0' ? "forward_layer" : "backward_layer";
    else if (!strcmp(cls, "TimeDistributed") || !strcmp(cls, "SpectralNormalization"))
        attr = "layer";
    if (!attr || (rest[0] && (strchr(rest, '/') || !strstr(rest, "_cell"))))
        return NULL;
    snprintf(buf, cap, "%s/%s", attr, rest[0] ? "cell/" : "");
    return buf;
}

/* Created with trainable=False: BatchNormalization's moving statistics,
 * SpectralNormalization's vector_u (Normalization's are all non-trainable,
 * so their order is unchanged). */
static int non_trainable(const char *var)
{
    return !strcmp(var, "moving_mean") || !strcmp(var, "moving_variance") || !strcmp(var, "vector_u");
}

/* The named tensors sorted by name, so that the tensors of one layer (a
 * name prefix) are found by binary search: a scan of the whole model per
 * layer made a 100k-layer model O(n^2). */
typedef struct named_ref {
    const char *name;
    size_t i;
} named_ref;

typedef struct name_index {
    named_ref *r;
    size_t n;
    size_t *hits; /* scratch: one layer's tensors, in model order */
} name_index;

static int cmp_named_ref(const void *a, const void *b)
{
    const named_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The tensors named "<lname>/..." into ix->hits, in model order; their count. */
static size_t layer_tensors(name_index *ix, const char *lname, size_t ll)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* the first name >= lname */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->r[mid].name, lname) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = 0;
    for (size_t j = lo; j < ix->n && !strncmp(ix->r[j].name, lname, ll); j++)
        if (ix->r[j].name[ll] == '/')
            ix->hits[k++] = ix->r[j].i;
    qsort(ix->hits, k, sizeof *ix->hits, cmp_size);
    return k;
}

/* The variables of layer `lname` (its full name, a nested model's prefix
 * included) are the tensors named "<lname>/...". */
static nninit_status layer_paths(nninit_model *m, name_index *ix, const char *cls, const char *lname,
                                 const char *container, nninit_err *err)
{
    size_t ll = strlen(lname);
    size_t count = layer_tensors(ix, lname, ll);
    const size_t *own = ix->hits;
    char first_scope[256] = "";
    for (size_t h = 0; h < count; h++) { /* the first sublayer scope: Bidirectional's forward layer */
        const char *nm = m->t[own[h]].name;
        if (!nm || strncmp(nm, lname, ll) || nm[ll] != '/')
            continue;
        const char *rest = nm + ll + 1, *slash = strchr(rest, '/');
        if (slash) {
            snprintf(first_scope, sizeof first_scope, "%.*s", (int)(slash - rest), rest);
            break;
        }
    }
    /* vars/<k>: per sublayer, trainable variables first, each group in creation order */
    for (int pass = 0; pass < 2; pass++)
        for (size_t h = 0; h < count; h++) {
            size_t i = own[h];
            nninit__mtensor *e = &m->t[i];
            if (!e->name || strncmp(e->name, lname, ll) || e->name[ll] != '/')
                continue;
            const char *rest = e->name + ll + 1, *leaf = strrchr(rest, '/');
            leaf = leaf ? leaf + 1 : rest;
            if (non_trainable(leaf) != pass)
                continue;
            if ((!strcmp(cls, "Dense") || !strcmp(cls, "EinsumDense")) && !strncmp(leaf, "lora_kernel_", 12)) {
                /* dense.py / einsum_dense.py save_own_variables: the kernel (merged with the LoRA product,
                 * which is 0 at initialization) and the bias only; load_own_variables zeroes the LoRA kernels */
                free(e->store_path);
                if (!(e->store_path = nninit__strdup("")))
                    return nninit__err(err, NNINIT_ENOMEM, "out of memory");
                continue;
            }
            char scopes[256], buf[300];
            snprintf(scopes, sizeof scopes, "%.*s", (int)(leaf > rest ? leaf - rest - 1 : 0), rest);
            const char *attr = sub_attr(cls, scopes, first_scope, buf, sizeof buf);
            if (!attr)
                continue; /* unknown: no store path; writing .weights.h5 then says so */
            size_t k = 0; /* this variable's index among its sublayer's variables stored before it */
            for (size_t hj = 0; hj < count; hj++) { /* a container holds only its own layer's tensors */
                size_t j = own[hj];
                const nninit__mtensor *o = &m->t[j];
                if (j == i || !o->store_path || !o->store_path[0])
                    continue;
                char prefix[1100];
                snprintf(prefix, sizeof prefix, "%s/%svars/", container, attr);
                if (!strncmp(o->store_path, prefix, strlen(prefix)) && !strchr(o->store_path + strlen(prefix), '/'))
                    k++;
            }
            char path[1100];
            snprintf(path, sizeof path, "%s/%svars/%zu", container, attr, k);
            free(e->store_path); /* two layers of one name (Keras refuses them): the last one's path */
            if (!(e->store_path = nninit__strdup(path)))
                return nninit__err(err, NNINIT_ENOMEM, "out of memory");
        }
    return NNINIT_OK;
}

static nninit_status model_paths(nninit_model *m, name_index *ix, json_t *cfg, int functional, const char *prefix,
                                 const char *root, int depth, nninit_err *err)
{
    json_t *layers = json_object_get(cfg, "layers");
    size_t n_layers = json_array_size(layers);
    if (depth > 8)
        return nninit__err(err, NNINIT_EINVAL, "keras model: models nest more than 8 deep");
    size_t *order = malloc((n_layers ? n_layers : 1) * sizeof *order);
    char (*seen)[64] = calloc(n_layers ? n_layers : 1, sizeof *seen);
    size_t *times = calloc(n_layers ? n_layers : 1, sizeof *times);
    nninit_status s = NNINIT_OK;
    if (!order || !seen || !times) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
        goto done;
    }
    if (functional) {
        functional_order(cfg, layers, n_layers, order);
    } else {
        for (size_t i = 0; i < n_layers; i++)
            order[i] = i;
    }
    size_t n_seen = 0;
    for (size_t r = 0; r < n_layers && !s; r++) {
        json_t *l = json_array_get(layers, order[r]);
        json_t *lcfg = json_object_get(l, "config");
        const char *cls = json_string_value(json_object_get(l, "class_name"));
        const char *lname = json_string_value(json_object_get(lcfg, "name"));
        if (!lname)
            lname = json_string_value(json_object_get(l, "name"));
        if (!cls || !lname)
            continue;
        char snake[64];
        nninit__keras_snake_case(cls, snake, sizeof snake);
        size_t k = 0;
        while (k < n_seen && strcmp(seen[k], snake))
            k++;
        if (k == n_seen)
            snprintf(seen[n_seen++], sizeof *seen, "%s", snake);
        else
            times[k]++;
        char container[700], full[600];
        if (times[k])
            snprintf(container, sizeof container, "%slayers/%s_%zu", root, snake, times[k]);
        else
            snprintf(container, sizeof container, "%slayers/%s", root, snake);
        snprintf(full, sizeof full, "%s%s", prefix, lname);
        if ((!strcmp(cls, "Sequential") || !strcmp(cls, "Functional") || !strcmp(cls, "Model")) &&
            json_is_array(json_object_get(lcfg, "layers"))) {
            /* a model as a layer: Sequential/Functional visit their own "layers" first */
            char sub_prefix[610], sub_root[720];
            snprintf(sub_prefix, sizeof sub_prefix, "%s/", full);
            snprintf(sub_root, sizeof sub_root, "%s/", container);
            s = model_paths(m, ix, lcfg, strcmp(cls, "Sequential") != 0, sub_prefix, sub_root, depth + 1, err);
        } else {
            s = layer_paths(m, ix, cls, full, container, err);
        }
    }
done:
    free(order);
    free(seen);
    free(times);
    return s;
}

nninit_status nninit__keras_store_paths(nninit_model *m, json_t *cfg, int functional, nninit_err *err)
{
    name_index ix = {nninit__malloc_array(m->n ? m->n : 1, sizeof *ix.r), 0,
                     nninit__malloc_array(m->n ? m->n : 1, sizeof *ix.hits)};
    nninit_status s = NNINIT_OK;
    if (!ix.r || !ix.hits) {
        s = nninit__err(err, NNINIT_ENOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < m->n; i++)
            if (m->t[i].name)
                ix.r[ix.n++] = (named_ref){m->t[i].name, i};
        qsort(ix.r, ix.n, sizeof *ix.r, cmp_named_ref);
        s = model_paths(m, &ix, cfg, functional, "", "", 0, err);
    }
    free(ix.r);
    free(ix.hits);
    return s;
}
