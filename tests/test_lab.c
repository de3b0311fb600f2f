/* The lab: the data-free lessons are confirmed on small nets, the report
 * and its files are written, the training path runs on a generated IDX set,
 * and bad options or an explicit missing data folder are errors. */
#include "util.h"
#include "lab.h"

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_lines;
static void on_line(const char *line, void *user)
{
    (void)line;
    (void)user;
    count_lines++;
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
    assert_int_equal(s.n_lessons, 4);
    /* symmetry, vanishing small init, He for ReLU: robust at this size (30 layers of 128) */
    for (int i = 0; i < 3; i++) {
        if (!s.lessons[i].checked || !s.lessons[i].confirmed)
            fail_msg("lesson '%s' not confirmed: %s", s.lessons[i].title, s.lessons[i].evidence);
    }
    assert_true(count_lines > 20);
    const char *files[] = {"report.md", "lab.json", "signal.svg"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 100);
        unlink(path);
    }
    rmdir(dir);
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
    assert_ok(nninit_lab_run(&o, &s, &err), &err);
    assert_true(s.data_found);
    assert_int_equal(s.n_lessons, 8);
    for (int i = 4; i < 8; i++)
        assert_true(s.lessons[i].checked); /* the verdicts on 512 toy images are not the point here */
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
    o.epochs = 0;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_free_lessons),
        cmocka_unit_test(test_training_path),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_summary_json_escapes_titles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
