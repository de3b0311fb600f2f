/* The lab: the data-free lessons are confirmed on small nets, the report
 * and its files are written, the training path runs on a generated IDX set,
 * and bad options or an explicit missing data folder are errors. */
#include "util.h"
#include "lab_internal.h" /* lab_jacobian_sv, lab_seq_train */

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_lines;
static void on_line(const char *line, void *user)
{
    (void)line;
    (void)user;
    count_lines++;
}

/* Every numeric table cell of lab.json holds the number its text shows
 * (the text is the number rounded for display: within half a unit of its
 * last digit), and every table row and
 * lesson of lab.json is in report.md and report.html. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Half a unit of the last digit a number's text shows ("0.077": 0.0005,
 * "1.2e-05": 5e-07, "64": 0.5), plus a hair for the binary round trip. */
static double half_unit(const char *t)
{
    const char *dot = strchr(t, '.'), *e = strpbrk(t, "eE");
    int decimals = 0;
    if (dot)
        for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++)
            decimals++;
    int exponent = e ? atoi(e + 1) : 0;
    return 0.5 * pow(10.0, exponent - decimals) * (1 + 1e-9);
}

static int check_report_files(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/lab.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        fail_msg("lab.json: %s", je.text);
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = slurp(path);
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = slurp(path);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    int cells = 0, figures = 0;
    size_t i, j, k;
    json_t *sec, *b;
    json_array_foreach(json_object_get(root, "sections"), i, sec) {
        json_array_foreach(json_object_get(sec, "blocks"), j, b) {
            const char *type = json_string_value(json_object_get(b, "type"));
            if (!strcmp(type, "figure")) {
                figures++;
                assert_non_null(strstr(html, json_string_value(json_object_get(b, "caption"))));
                continue;
            }
            if (strcmp(type, "table") != 0)
                continue;
            json_t *rows = json_object_get(b, "rows"), *text = json_object_get(b, "text"), *row;
            json_array_foreach(rows, k, row) {
                char line[2048];
                size_t len = 0;
                json_t *tr = json_array_get(text, k);
                for (size_t m = 0; m < json_array_size(row); m++) {
                    json_t *v = json_array_get(row, m);
                    const char *t = json_string_value(json_array_get(tr, m));
                    len += (size_t)snprintf(line + len, sizeof line - len, "| %s ", t);
                    if (json_is_number(v)) {
                        double x = json_number_value(v), shown = strtod(t, NULL);
                        if (!(fabs(shown - x) <= half_unit(t)))
                            fail_msg("cell '%s' shows %.17g", t, x);
                        cells++;
                    }
                }
                snprintf(line + len, sizeof line - len, "|");
                if (!strstr(md, line))
                    fail_msg("table row not in report.md: %s", line);
            }
        }
    }
    json_t *l;
    json_array_foreach(json_object_get(root, "lessons"), i, l) {
        const char *ev = json_string_value(json_object_get(l, "evidence"));
        assert_non_null(strstr(md, ev));
    }
    assert_true(cells > 10);
    assert_non_null(json_string_value(json_object_get(root, "rerun")));
    json_decref(root);
    free(md);
    free(html);
    return figures;
}

static void remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_data_free_lessons(void **state)
{
    (void)state;
    char dir[] = "/tmp/nninit-lab-XXXXXX";
    assert_non_null(mkdtemp(dir));
    nninit_lab_opts o = nninit_lab_opts_default();
    o.depth = 30;
    o.width = 128;
    o.skip_training = 1;
    o.out_dir = dir;
    o.on_line = on_line;
    nninit_lab_summary s;
    nninit_err err;
    count_lines = 0;
    assert_ok(nninit_lab_run(&o, &s, &err), &err);
    int checked = 0;
    for (int i = 0; i < s.n_lessons; i++)
        checked += s.lessons[i].checked;
    assert_int_equal(checked, 4); /* the data lessons are listed as skipped */
    assert_true(s.n_lessons > 4);
    /* symmetry, vanishing small init, He for ReLU: robust at this size (30 layers of 128) */
    for (int i = 0; i < 3; i++) {
        if (!s.lessons[i].checked || !s.lessons[i].confirmed)
            fail_msg("lesson '%s' not confirmed: %s", s.lessons[i].title, s.lessons[i].evidence);
    }
    assert_true(count_lines > 20);
    const char *files[] = {"report.md", "report.html", "lab.json", "signal.svg"};
    for (int i = 0; i < 4; i++) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 100);
    }
    assert_int_equal(check_report_files(dir), 1);
    assert_non_null(strstr(s.rerun, "--depth 30 --width 128"));
    assert_non_null(strstr(s.rerun, "--no-training"));
    remove_dir(dir);
}

/* --only runs the named experiments alone; an unknown name is refused. */
static void test_only(void **state)
{
    (void)state;
    nninit_lab_opts o = nninit_lab_opts_default();
    o.only = "symmetry";
    nninit_lab_summary s;
    nninit_err err;
    assert_ok(nninit_lab_run(&o, &s, &err), &err);
    assert_int_equal(s.n_lessons, 1);
    assert_string_equal(s.lessons[0].experiment, "symmetry");
    assert_non_null(strstr(s.rerun, "--only symmetry"));
    o.only = "symmetry,signals";
    assert_int_equal(nninit_lab_run(&o, &s, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "'signals'"));
    o.only = "";
    assert_int_equal(nninit_lab_run(&o, &s, &err), NNINIT_EINVAL);
    for (int i = 0; nninit_lab_experiment_name(i); i++)
        assert_non_null(nninit_lab_experiment_title(i));
}

/* a tiny two-class IDX set: class = whether the left half is brighter */
static void write_idx(const char *path, int rank, const uint32_t *dims, const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char head[4] = {0, 0, 0x08, (unsigned char)rank};
    fwrite(head, 1, 4, f);
    for (int i = 0; i < rank; i++) {
        unsigned char d[4] = {(unsigned char)(dims[i] >> 24), (unsigned char)(dims[i] >> 16),
                              (unsigned char)(dims[i] >> 8), (unsigned char)dims[i]};
        fwrite(d, 1, 4, f);
    }
    fwrite(data, 1, n, f);
    assert_int_equal(fclose(f), 0);
}

static void make_set(const char *dir, const char *split, uint32_t n)
{
    unsigned char *img = malloc((size_t)n * 64), *lab = malloc(n);
    uint64_t x = 12345 + n;
    for (uint32_t i = 0; i < n; i++) {
        lab[i] = (unsigned char)(i % 2);
        for (int p = 0; p < 64; p++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int left = (p % 8) < 4;
            img[i * 64 + p] = (unsigned char)(((x >> 33) % 128) + ((left == (lab[i] == 1)) ? 100 : 0));
        }
    }
    char path[512];
    uint32_t dims[3] = {n, 8, 8};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, split);
    write_idx(path, 3, dims, img, (size_t)n * 64);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, split);
    write_idx(path, 1, dims, lab, n);
    free(img);
    free(lab);
}

static void test_training_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/nninit-labdata-XXXXXX";
    assert_non_null(mkdtemp(dir));
    make_set(dir, "train", 512);
    make_set(dir, "t10k", 128);
    nninit_lab_opts o = nninit_lab_opts_default();
    o.depth = 8;
    o.width = 32;
    o.epochs = 1;
    o.data_dir = dir;
    nninit_lab_summary s;
    nninit_err err;
    char out[] = "/tmp/nninit-labout-XXXXXX";
    assert_non_null(mkdtemp(out));
    o.out_dir = out;
    /* every experiment but the recurrent and transformer ones (minutes of
     * Adam steps on their own data: tests/cli/lab_html.sh runs them in a
     * --quick run) */
    char only[512] = "";
    int n_exp = 0;
    for (; nninit_lab_experiment_name(n_exp); n_exp++)
        if (strcmp(nninit_lab_experiment_name(n_exp), "recurrent") != 0 &&
            strcmp(nninit_lab_experiment_name(n_exp), "transformer") != 0)
            snprintf(only + strlen(only), sizeof only - strlen(only), "%s%s", only[0] ? "," : "",
                     nninit_lab_experiment_name(n_exp));
    o.only = only;
    assert_ok(nninit_lab_run(&o, &s, &err), &err);
    assert_true(s.data_found);
    for (int i = 0; i < s.n_lessons; i++) /* the verdicts on 512 toy images are not the point here */
        if (!s.lessons[i].checked)
            fail_msg("lesson '%s' skipped with data", s.lessons[i].title);
    assert_int_equal(check_report_files(out), n_exp - 3); /* every experiment run but symmetry draws */
    remove_dir(out);
    o.out_dir = NULL;
    o.only = NULL;
    const char *names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    /* an explicit folder without data is an error, not a skip */
    o.data_dir = dir;
    assert_int_equal(nninit_lab_run(&o, &s, &err), NNINIT_ENOTFOUND);
    rmdir(dir);
}

static void test_bad_options(void **state)
{
    (void)state;
    nninit_lab_summary s;
    nninit_err err;
    nninit_lab_opts o = nninit_lab_opts_default();
    o.epochs = 65;
    assert_int_equal(nninit_lab_run(&o, &s, &err), NNINIT_EINVAL);
    o = nninit_lab_opts_default();
    o.depth = 1;
    assert_int_equal(nninit_lab_run(&o, &s, &err), NNINIT_EINVAL);
    o = nninit_lab_opts_default();
    o.skip_training = 1;
    o.depth = 4;
    o.width = 16;
    o.out_dir = "/nonexistent/dir/report";
    assert_int_equal(nninit_lab_run(&o, &s, &err), NNINIT_EIO);
    assert_int_equal(nninit_lab_run(NULL, &s, &err), NNINIT_EMISUSE);
}

/* lab.json escapes lesson titles: a title with a quote, a backslash, a
 * newline and a control byte reads back unchanged through a JSON parser
 * (the lab used to print titles raw, which made the file invalid JSON). */
static void test_summary_json_escapes_titles(void **state)
{
    (void)state;
    static const char *titles[] = {"plain", "a \"quoted\" title", "back\\slash\nnew line", "bell\a and \x01 tab\t"};
    nninit_lab_opts o = nninit_lab_opts_default();
    nninit_lab_summary s;
    memset(&s, 0, sizeof s);
    s.n_lessons = 4;
    for (int i = 0; i < 4; i++) {
        snprintf(s.lessons[i].title, sizeof s.lessons[i].title, "%s", titles[i]);
        s.lessons[i].checked = i != 3;
        s.lessons[i].confirmed = i == 0;
    }
    char *text = NULL;
    nninit_err err;
    assert_ok(nninit_lab_summary_json(&o, &s, &text, &err), &err);
    assert_non_null(text);
    size_t n = strlen(text);
    assert_true(n > 0 && text[n - 1] == '\n' && !memchr(text, '\n', n - 1)); /* one line */
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        fail_msg("lab.json is not JSON (%s): %s", je.text, text);
    json_t *lessons = json_object_get(root, "lessons");
    assert_int_equal(json_array_size(lessons), 4);
    static const char *status[] = {"confirmed", "not_reproduced", "not_reproduced", "skipped"};
    for (int i = 0; i < 4; i++) {
        json_t *l = json_array_get(lessons, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(l, "title")), titles[i]);
        assert_string_equal(json_string_value(json_object_get(l, "status")), status[i]);
    }
    assert_int_equal(json_integer_value(json_object_get(root, "seed")), (json_int_t)o.seed);
    json_decref(root);
    free(text);
}

/* lab_jacobian_sv on nets whose Jacobian's singular values are known. */

/* A 3x3 'same' conv with a delta_orthogonal(gain=g) kernel, linear, no
 * bias: the centre tap is g Q (Q orthogonal 8x8) and nothing else touches a
 * pixel, so the Jacobian is g Q^T at every pixel: all 5*5*8 = 200 singular
 * values are g (200 outputs: two chunks of unit gradients). Float32 weights
 * are orthogonal to ~1e-7, so 1e-5 is loose yet a wrong gain (1.5 vs
 * 1.25), a row written to the wrong place or a missing chunk fails it. */
static void test_jacobian_delta_orthogonal_conv(void **state)
{
    (void)state;
    nninit_layer_desc L = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    L.units = 8;
    L.padding = NNINIT_PAD_SAME;
    L.use_bias = 0;
    snprintf(L.kernel_init, sizeof L.kernel_init, "DeltaOrthogonal(gain=1.25)");
    nninit_shape in = {3, {5, 5, 8}};
    nninit_net *net = NULL;
    nninit_err err;
    assert_ok(nninit_net_new_shaped(&in, &L, 1, NULL, &net, &err), &err);
    float x[200];
    for (int i = 0; i < 200; i++)
        x[i] = (float)sin(0.37 * i);
    double sv[200];
    assert_ok(lab_jacobian_sv(net, x, sv, &err), &err);
    for (int i = 0; i < 200; i++)
        assert_true(fabs(sv[i] - 1.25) < 1e-5);
    nninit_net_free(net);
}

/* The same kernel with tanh on a 1x1 image: J = g Q^T diag(tanh'(h)) with
 * h = x (g Q) + b, so the singular values are g (1 - tanh(h_i)^2), sorted
 * descending (computed here from the net's own weights). */
static void test_jacobian_tanh_pixel(void **state)
{
    (void)state;
    enum { C = 6 };
    nninit_layer_desc L = nninit_layer_desc_default(NNINIT_LAYER_CONV2D);
    L.units = C;
    L.act = NNINIT_ACT_TANH;
    L.padding = NNINIT_PAD_SAME;
    snprintf(L.kernel_init, sizeof L.kernel_init, "DeltaOrthogonal(gain=1.5)");
    snprintf(L.bias_init, sizeof L.bias_init, "RandomNormal(stddev=0.3)");
    nninit_shape in = {3, {1, 1, C}};
    nninit_net *net = NULL;
    nninit_err err;
    assert_ok(nninit_net_new_shaped(&in, &L, 1, NULL, &net, &err), &err);
    float k[9 * C * C], b[C], x[C] = {0.9f, -0.4f, 0.1f, 1.3f, -1.1f, 0.5f};
    assert_ok(nninit_net_get_param(net, 0, 0, k, NNINIT_LAYOUT_KERAS, &err), &err);
    assert_ok(nninit_net_get_param(net, 0, 1, b, NNINIT_LAYOUT_KERAS, &err), &err);
    double want[C], sv[C];
    for (int o = 0; o < C; o++) {
        double h = b[o];
        for (int i = 0; i < C; i++)
            h += (double)x[i] * k[(4 * C + i) * C + o]; /* the centre tap (1, 1) of HWIO */
        want[o] = 1.5 * (1 - tanh(h) * tanh(h));
    }
    for (int i = 0; i < C; i++) /* sort descending */
        for (int j = i + 1; j < C; j++)
            if (want[j] > want[i]) {
                double t = want[i];
                want[i] = want[j];
                want[j] = t;
            }
    assert_ok(lab_jacobian_sv(net, x, sv, &err), &err);
    for (int i = 0; i < C; i++)
        assert_true(fabs(sv[i] - want[i]) < 1e-5);
    nninit_net_free(net);
}

/* A dense 3 -> 5 layer with the kernel W = diag(3, 2, 1) R, R's rows
 * orthonormal: J = W^T (5 x 3), singular values exactly 3, 2, 1 (a
 * non-square Jacobian: min(n_in, n_out) values). */
static void test_jacobian_dense_known(void **state)
{
    (void)state;
    nninit_layer_desc L = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L.units = 5;
    L.use_bias = 0;
    nninit_net *net = NULL;
    nninit_err err;
    assert_ok(nninit_net_new(3, &L, 1, NULL, &net, &err), &err);
    const float w[15] = {1.5f, 1.5f, 1.5f, 1.5f, 0, /* 3 (1, 1, 1, 1, 0) / 2 */
                         1, -1, 1, -1, 0,           /* 2 (1, -1, 1, -1, 0) / 2 */
                         0, 0, 0, 0, 1};            /* 1 (0, 0, 0, 0, 1) */
    assert_ok(nninit_net_set_param(net, 0, 0, w, NNINIT_LAYOUT_KERAS, &err), &err);
    const float x[3] = {0.2f, -0.7f, 1.1f};
    double sv[3];
    assert_ok(lab_jacobian_sv(net, x, sv, &err), &err);
    assert_true(fabs(sv[0] - 3) < 1e-6 && fabs(sv[1] - 2) < 1e-6 && fabs(sv[2] - 1) < 1e-6);
    nninit_net_free(net);
}

/* The sequence lessons' training helper (lab/seq_train.c) is the engine's
 * loop: the net it trains equals, bit for bit, the same nninit_train call
 * without the monitor it listens to; its first loss is the first batch's
 * loss at init, its test loss the mean of nninit_evaluate's, its curve has
 * one point per stretch of steps. A sample draws distinct rows. */
static nninit_net *tiny_rnn(void)
{
    nninit_layer_desc L[2];
    L[0] = nninit_layer_desc_default(NNINIT_LAYER_SIMPLE_RNN);
    L[0].units = 4;
    L[1] = nninit_layer_desc_default(NNINIT_LAYER_DENSE);
    L[1].units = 1;
    nninit_shape in = {2, {6, 2}};
    nninit_net *net = NULL;
    nninit_err err;
    assert_ok(nninit_net_new_shaped(&in, L, 2, NULL, &net, &err), &err);
    return net;
}

static void test_seq_train_is_the_engine_loop(void **state)
{
    (void)state;
    nninit_seqset s;
    nninit_dataset tr, te;
    nninit_err err;
    assert_ok(nninit_adding_problem(100, 6, 5, &s, &err), &err);
    assert_ok(nninit_dataset_from_seqset(&s, &tr, &err), &err);
    nninit_seqset_free(&s);
    assert_ok(nninit_adding_problem(30, 6, 6, &s, &err), &err);
    assert_ok(nninit_dataset_from_seqset(&s, &te, &err), &err);
    nninit_seqset_free(&s);
    nninit_lab_opts o = nninit_lab_opts_default();
    lab_ctx c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    lab_seq_spec sp = lab_seq_spec_default();
    sp.optim.clip_norm = 0.5;
    sp.batch = 16;
    sp.epochs = 3; /* 7 steps an epoch (the last of 4 rows): 21 steps */
    sp.seed = 9;
    sp.n_early = 5;
    lab_seq_run r;
    nninit_net *a = tiny_rnn(), *b = tiny_rnn();
    /* the first batch's loss at init: rows perm(seed 9, stream 1)[0..15] */
    int64_t perm[100];
    assert_ok(nninit_permutation(perm, 100, 9, 1, &err), &err);
    float xb[16 * 12], yb[16];
    for (int i = 0; i < 16; i++) {
        memcpy(xb + 12 * i, tr.x + 12 * perm[i], 12 * sizeof(float));
        yb[i] = tr.yf[perm[i]];
    }
    const float *out;
    double first;
    assert_ok(nninit_net_forward(b, xb, 16, 1, &out, &err), &err);
    assert_ok(nninit_loss(NNINIT_LOSS_MSE, out, 16, 1, NULL, yb, &first, NULL, &err), &err);
    assert_ok(lab_seq_train(&c, a, &tr, &te, &sp, 0, 1, &r, &err), &err);
    assert_false(r.diverged);
    assert_int_equal(r.steps_done, 21);
    assert_true(r.first_loss == first);
    assert_true(r.n_curve == 21 && r.curve_x[0] == 1 && r.curve_x[20] == 21); /* fewer steps than points: each */
    assert_true(r.early > 0);
    nninit_train_opts to = nninit_train_opts_default();
    to.optim = sp.optim;
    to.loss = NNINIT_LOSS_MSE;
    to.batch = 16;
    to.epochs = 3;
    to.seed = 9;
    assert_ok(nninit_train(b, &tr, NULL, NULL, &to, NULL, &err), &err);
    for (int layer = 0; layer < 2; layer++) {
        float *va, *vb;
        nninit_shape sh;
        assert_ok(nninit_net_param(a, layer, 0, &va, NULL, &sh, NULL, &err), &err);
        assert_ok(nninit_net_param(b, layer, 0, &vb, NULL, NULL, NULL, &err), &err);
        assert_memory_equal(va, vb, (size_t)(sh.dim[0] * sh.dim[1]) * sizeof(float));
    }
    double mean;
    assert_ok(nninit_evaluate(a, &te, NNINIT_LOSS_MSE, 7, &mean, NULL, &err), &err);
    assert_close(r.test_loss, mean, 1e-12);
    /* a sample: 40 distinct rows of tr with their targets */
    nninit_dataset smp;
    assert_ok(lab_dataset_sample(&tr, 40, 3, &smp, &err), &err);
    assert_int_equal(smp.n, 40);
    int hit[100] = {0};
    for (int i = 0; i < 40; i++) {
        int found = -1;
        for (int j = 0; j < 100 && found < 0; j++)
            if (!memcmp(smp.x + 12 * i, tr.x + 12 * j, 12 * sizeof(float)) && smp.yf[i] == tr.yf[j])
                found = j;
        assert_true(found >= 0 && !hit[found]);
        hit[found] = 1;
    }
    nninit_dataset_free(&smp);
    nninit_net_free(a);
    nninit_net_free(b);
    nninit_dataset_free(&tr);
    nninit_dataset_free(&te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_free_lessons),
        cmocka_unit_test(test_only),
        cmocka_unit_test(test_training_path),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_summary_json_escapes_titles),
        cmocka_unit_test(test_jacobian_delta_orthogonal_conv),
        cmocka_unit_test(test_jacobian_tanh_pixel),
        cmocka_unit_test(test_jacobian_dense_known),
        cmocka_unit_test(test_seq_train_is_the_engine_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
