/* The one string builder (core/strbuf.c, nninit__sb_*) and the one JSON
 * string escaper (nninit_json_quote): Python's json.dumps output on every
 * ASCII byte, snprintf-style truncation, and a builder that grows past its
 * first allocation. */
#include "util.h"
#include "core/internal.h"

/* Every byte 0x01..0x7f, then U+00E9 and '/', as Python 3 writes them:
 *   s = ''.join(map(chr, range(1, 128))) + '\u00e9/'
 *   out = json.dumps(s, ensure_ascii=False).encode()
 *   print(''.join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?' else '\\%03o' % b for b in out))
 */
static const char python_quoted[] =
    "\042\134u0001\134u0002\134u0003\134u0004\134u0005\134u0006\134u0007\134b\134t\134n\134u000b\134f\134r\134u000e\134u000f\134u0010\134u0011\134u0012\134u0013\134u0014\134u0015\134u0016\134u0017\134u0018\134u0019\134u001a\134u001b\134u001c\134u001d\134u001e\134u001f !\134\042#$%&'()*+,-./0123456789:;<=>\077@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\134\134]^_`abcdefghijklmnopqrstuvwxyz{|}~\177\303\251/\042";

static void test_json_quote_matches_python(void **state)
{
    (void)state;
    char in[132];
    for (int i = 1; i < 128; i++)
        in[i - 1] = (char)i;
    memcpy(in + 127, "\303\251/", 4);
    char out[1024];
    size_t n = nninit_json_quote(in, out, sizeof out);
    assert_int_equal(n, strlen(python_quoted));
    assert_string_equal(out, python_quoted);
    /* the size query and NULL input */
    assert_int_equal(nninit_json_quote(in, NULL, 0), n);
    assert_int_equal(nninit_json_quote(NULL, out, sizeof out), 2);
    assert_string_equal(out, "\"\"");
}

static void test_json_quote_truncates_like_snprintf(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'x', sizeof out);
    /* "a\nb" quotes to "a\nb" in quotes: 6 bytes */
    assert_int_equal(nninit_json_quote("a\nb", out, 4), 6);
    assert_string_equal(out, "\"a\\");
    assert_int_equal(out[4], 'x'); /* nothing written past cap */
    assert_int_equal(nninit_json_quote("a\nb", out, 7), 6);
    assert_string_equal(out, "\"a\\nb\"");
    assert_int_equal(nninit_json_quote("a\nb", out, 1), 6);
    assert_string_equal(out, "");
}

static void test_builder_grows(void **state)
{
    (void)state;
    nninit__sb b = NNINIT__SB_INIT;
    char *empty = nninit__sb_take(&b);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);
    /* 10000 numbers: far past the first 256-byte allocation */
    size_t want = 0;
    for (int i = 0; i < 10000; i++) {
        nninit__sb_printf(&b, "%d,", i);
        want += (size_t)snprintf(NULL, 0, "%d,", i);
    }
    nninit__sb_str(&b, "end");
    nninit__sb_put(&b, "xyz", 1);
    nninit__sb_json_str(&b, "q\"");
    assert_int_equal(b.len, want + 3 + 1 + 5);
    char *s = nninit__sb_take(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), want + 9);
    assert_memory_equal(s, "0,1,2,3,", 8);
    assert_string_equal(s + want, "endx\"q\\\"\"");
    assert_null(b.p);
    free(s);
    nninit__sb_printf(&b, "%s", "again");
    nninit__sb_free(&b);
    assert_null(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_quote_matches_python),
        cmocka_unit_test(test_json_quote_truncates_like_snprintf),
        cmocka_unit_test(test_builder_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
