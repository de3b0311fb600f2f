/* Sequence data sets: the fortunes corpus (a made-up folder checked exactly,
 * then Debian's files when installed), next-character windows, and the
 * synthetic adding and copy-memory tasks (structure, determinism, and
 * distribution checks with tolerances from the sample sizes). */
#include "util.h"

#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void decode(const nninit_text *t, int64_t from, int64_t n, char *out)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = t->ids[from + i] ? (char)t->byte_of[t->ids[from + i]] : '?';
    out[n] = '\0';
}

static void test_fortunes_made_up(void **state)
{
    (void)state;
    char dir[] = "/tmp/nninit_fortunes_XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* "b" sorts after "a": fortunes 0, 1 from a; 2..11 from b (9 is the test one);
     * "c" has no index and "a.u8" has a dot: both ignored */
    write_file(dir, "a", "one\n%\n%\ntwo\nlines\n%\n");
    write_file(dir, "a.dat", "");
    write_file(dir, "a.u8", "ignored\n");
    write_file(dir, "b", "f2\n%\nf3\n%\nf4\n%\nf5\n%\nf6\n%\nf7\n%\nf8\n%\nZebra\n%\nf10\n%\nno newline at end");
    write_file(dir, "b.dat", "");
    write_file(dir, "c", "ignored too\n%\n");
    nninit_text tr, te;
    nninit_err err;
    assert_ok(nninit_fortunes_load(dir, &tr, &te, &err), &err);
    const char *want_train = "one\n%\ntwo\nlines\n%\nf2\n%\nf3\n%\nf4\n%\nf5\n%\nf6\n%\nf7\n%\nf8\n%\nf10\n%\n"
                             "no newline at end\n%\n";
    char got[512];
    assert_int_equal(tr.n, (int64_t)strlen(want_train));
    decode(&tr, 0, tr.n, got);
    assert_string_equal(got, want_train);
    assert_int_equal(tr.n_docs, 11);
    assert_int_equal(te.n_docs, 1);
    assert_int_equal(tr.n_unknown, 0);
    /* "Zebra": Z, b and r are not in the training text */
    decode(&te, 0, te.n, got);
    assert_string_equal(got, "?e??a\n%\n");
    assert_int_equal(te.n_unknown, 3);
    /* vocabulary: the distinct training bytes in increasing order from id 1 */
    int distinct = 0;
    for (int c = 0; c < 256; c++)
        if (memchr(want_train, c, strlen(want_train)))
            distinct++;
    assert_int_equal(tr.vocab, 1 + distinct);
    assert_int_equal(te.vocab, tr.vocab);
    for (int v = 2; v < tr.vocab; v++)
        assert_true(tr.byte_of[v - 1] < tr.byte_of[v]);
    assert_int_equal(tr.byte_of[1], '\n');

    /* windows: x = ids[i s ..], y = the same shifted by one */
    nninit_seqset s;
    assert_ok(nninit_text_windows(&tr, 5, 3, &s, &err), &err);
    assert_int_equal(s.n, (tr.n - 6) / 3 + 1);
    assert_int_equal(s.n_classes, tr.vocab);
    for (int64_t i = 0; i < s.n; i++)
        for (int t = 0; t < 5; t++) {
            assert_int_equal(s.tokens[i * 5 + t], tr.ids[i * 3 + t]);
            assert_int_equal(s.y[i * 5 + t], tr.ids[i * 3 + t + 1]);
        }
    /* the last window's target ends inside the text */
    assert_true((s.n - 1) * 3 + 5 + 1 <= tr.n);
    nninit_seqset_free(&s);
    assert_int_equal(nninit_text_windows(&tr, tr.n, 1, &s, &err), NNINIT_EINVAL);
    assert_int_equal(nninit_text_windows(&tr, 4, 0, &s, &err), NNINIT_EINVAL);
    nninit_text_free(&tr);
    nninit_text_free(&te);

    /* fewer than 10 fortunes: no test split */
    remove_file(dir, "b.dat");
    assert_int_equal(nninit_fortunes_load(dir, &tr, &te, &err), NNINIT_EFORMAT);
    remove_file(dir, "a.dat");
    assert_int_equal(nninit_fortunes_load(dir, &tr, &te, &err), NNINIT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "apt-get install fortunes"));
    const char *names[] = {"a", "a.u8", "b", "c"};
    for (int i = 0; i < 4; i++)
        remove_file(dir, names[i]);
    rmdir(dir);
    assert_int_equal(nninit_fortunes_load(dir, &tr, &te, &err), NNINIT_ENOTFOUND);
}

static void test_fortunes_debian(void **state)
{
    (void)state;
    const char *dir = nninit_fortunes_default_dir();
    nninit_text tr, te, tr2, te2;
    nninit_err err;
    nninit_status st = nninit_fortunes_load(dir, &tr, &te, &err);
    if (st == NNINIT_ENOTFOUND) {
        printf("skipped: %s\n", err.msg);
        skip();
    }
    assert_ok(st, &err);
    printf("fortunes: train %lld chars (%lld fortunes), test %lld chars (%lld fortunes), vocab %d, %lld unknown in "
           "test\n",
           (long long)tr.n, (long long)tr.n_docs, (long long)te.n, (long long)te.n_docs, tr.vocab,
           (long long)te.n_unknown);
    /* every 10th fortune is a test fortune */
    int64_t k = tr.n_docs + te.n_docs;
    assert_int_equal(te.n_docs, k / 10);
    assert_int_equal(tr.n_unknown, 0);
    assert_true(tr.vocab > 60 && tr.vocab <= 257); /* English text: letters, digits, punctuation */
    /* deterministic: a second load is identical */
    assert_ok(nninit_fortunes_load(dir, &tr2, &te2, &err), &err);
    assert_int_equal(tr.n, tr2.n);
    assert_int_equal(te.n, te2.n);
    assert_memory_equal(tr.ids, tr2.ids, (size_t)tr.n * sizeof *tr.ids);
    assert_memory_equal(te.ids, te2.ids, (size_t)te.n * sizeof *te.ids);
    /* every '%' separator line is in place: the text ends with one, and the
     * count of "\n%\n" lines is the number of fortunes */
    char tail[4];
    decode(&tr, tr.n - 2, 2, tail);
    assert_string_equal(tail, "%\n");
    int64_t seps = 0;
    for (int64_t i = 0; i + 2 < tr.n; i++)
        seps += tr.byte_of[tr.ids[i]] == '\n' && tr.byte_of[tr.ids[i + 1]] == '%' && tr.byte_of[tr.ids[i + 2]] == '\n';
    assert_true(seps >= tr.n_docs - 1); /* a fortune may hold a '%' line-start of its own, never fewer */
    nninit_text_free(&tr);
    nninit_text_free(&te);
    nninit_text_free(&tr2);
    nninit_text_free(&te2);
}

static void test_adding_problem(void **state)
{
    (void)state;
    enum { N = 20000, T = 50 };
    nninit_seqset s, s2;
    nninit_err err;
    assert_ok(nninit_adding_problem(N, T, 7, &s, &err), &err);
    assert_int_equal(s.dim, 2);
    assert_int_equal(s.y_steps, 1);
    assert_int_equal(s.n_classes, 0);
    assert_null(s.tokens);
    double sum_y = 0, sum_a = 0, sum_b = 0, sum_v = 0;
    for (int64_t i = 0; i < N; i++) {
        const float *x = s.x + i * T * 2;
        int marks = 0, a = -1, b = -1;
        for (int t = 0; t < T; t++) {
            assert_true(x[2 * t] >= 0.0f && x[2 * t] < 1.0f);
            assert_true(x[2 * t + 1] == 0.0f || x[2 * t + 1] == 1.0f);
            if (x[2 * t + 1] == 1.0f) {
                marks++;
                if (a < 0)
                    a = t;
                else
                    b = t;
            }
            sum_v += x[2 * t];
        }
        assert_int_equal(marks, 2);
        assert_true(a < T / 2 && b >= T / 2);
        assert_true(s.yf[i] == x[2 * a] + x[2 * b]);
        sum_y += s.yf[i];
        sum_a += a;
        sum_b += b;
    }
    /* Means, each within 5 standard errors: target 1 (variance 1/6), values 1/2
     * (1/12), positions (T/2 - 1)/2 and T/2 + (T/2 - 1)/2 (variance ((T/2)^2 - 1)/12).
     * A marker drawn over the whole sequence or a value range [0, 2) fails. */
    double se_y = sqrt(1.0 / 6 / N), se_v = sqrt(1.0 / 12 / (N * T)), se_p = sqrt((T * T / 4.0 - 1) / 12 / N);
    assert_close(sum_y / N, 1.0, 5 * se_y);
    assert_close(sum_v / (N * T), 0.5, 5 * se_v);
    assert_close(sum_a / N, (T / 2 - 1) / 2.0, 5 * se_p);
    assert_close(sum_b / N, T / 2 + (T / 2 - 1) / 2.0, 5 * se_p);
    /* deterministic, prefix-stable, seed-dependent */
    assert_ok(nninit_adding_problem(10, T, 7, &s2, &err), &err);
    assert_memory_equal(s2.x, s.x, 10 * T * 2 * sizeof(float));
    assert_memory_equal(s2.yf, s.yf, 10 * sizeof(float));
    nninit_seqset_free(&s2);
    assert_ok(nninit_adding_problem(10, T, 8, &s2, &err), &err);
    assert_true(memcmp(s2.x, s.x, 10 * T * 2 * sizeof(float)) != 0);
    nninit_seqset_free(&s2);
    nninit_seqset_free(&s);
    /* odd lengths: halves [0, 1) and [1, 3) for steps 3 */
    assert_ok(nninit_adding_problem(50, 3, 1, &s, &err), &err);
    for (int i = 0; i < 50; i++)
        assert_true(s.x[i * 6 + 1] == 1.0f && s.x[i * 6 + 3] + s.x[i * 6 + 5] == 1.0f);
    nninit_seqset_free(&s);
    assert_int_equal(nninit_adding_problem(5, 1, 1, &s, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "steps"));
    assert_int_equal(nninit_adding_problem(0, 10, 1, &s, &err), NNINIT_EINVAL);
}

static void test_copy_memory(void **state)
{
    (void)state;
    enum { N = 4000, DELAY = 30, T = DELAY + 20 };
    nninit_seqset s, s2;
    nninit_err err;
    assert_ok(nninit_copy_memory(N, DELAY, 3, &s, &err), &err);
    assert_int_equal(s.steps, T);
    assert_int_equal(s.vocab, 10);
    assert_int_equal(s.n_classes, 9);
    assert_int_equal(s.y_steps, T);
    int64_t count[9] = {0};
    for (int64_t i = 0; i < N; i++) {
        const int32_t *x = s.tokens + i * T, *y = s.y + i * T;
        for (int t = 0; t < T; t++) {
            if (t < 10) {
                assert_true(x[t] >= 1 && x[t] <= 8);
                count[x[t]]++;
            } else {
                assert_int_equal(x[t], t == 10 + DELAY - 1 ? 9 : 0);
            }
            assert_int_equal(y[t], t < T - 10 ? 0 : x[t - (T - 10)]);
        }
    }
    /* symbols uniform over 1..8: chi-square with 7 degrees of freedom below
     * 29.88, its 99.99% quantile (fixed seed; a skewed draw scores in the 100s) */
    double e = N * 10 / 8.0, chi2 = 0;
    for (int k = 1; k <= 8; k++)
        chi2 += (count[k] - e) * (count[k] - e) / e;
    assert_true(chi2 < 29.88);
    assert_ok(nninit_copy_memory(3, DELAY, 3, &s2, &err), &err);
    assert_memory_equal(s2.tokens, s.tokens, 3 * T * sizeof(int32_t));
    nninit_seqset_free(&s2);
    nninit_seqset_free(&s);
    assert_ok(nninit_copy_memory(2, 1, 3, &s, &err), &err); /* delay 1: the delimiter right after the symbols */
    assert_int_equal(s.tokens[10], 9);
    nninit_seqset_free(&s);
    assert_int_equal(nninit_copy_memory(2, 0, 3, &s, &err), NNINIT_EINVAL);
    assert_non_null(strstr(err.msg, "delay"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fortunes_made_up),
        cmocka_unit_test(test_fortunes_debian),
        cmocka_unit_test(test_adding_problem),
        cmocka_unit_test(test_copy_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
