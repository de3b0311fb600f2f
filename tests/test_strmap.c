/* The string map (core/strmap.c, nninit__strmap_*) that keeps model loading
 * linear: every key found after growing past many capacities, a later put
 * replacing the value, absent keys (including ones sharing a prefix or a
 * probe run) not found, and keys compared by content, not by pointer. */
#include "util.h"
#include "core/internal.h"

#include <stdio.h>

static void test_put_get_many(void **state)
{
    (void)state;
    enum { N = 50000 }; /* grows 64 -> 131072 slots */
    char **keys = calloc(N, sizeof *keys);
    assert_non_null(keys);
    nninit__strmap m = NNINIT__STRMAP_INIT;
    for (size_t i = 0; i < N; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "layer_%zu/kernel", i);
        keys[i] = nninit__strdup(buf);
        assert_non_null(keys[i]);
        assert_int_equal(nninit__strmap_put(&m, keys[i], i), 0);
    }
    assert_int_equal(m.n, N);
    assert_true(m.cap >= 2 * (size_t)N);
    for (size_t i = 0; i < N; i++) {
        char probe[32]; /* another pointer, same content */
        snprintf(probe, sizeof probe, "layer_%zu/kernel", i);
        size_t v = (size_t)-1;
        assert_int_equal(nninit__strmap_get(&m, probe, &v), 1);
        assert_int_equal(v, i);
    }
    size_t v = 7;
    assert_int_equal(nninit__strmap_get(&m, "layer_", &v), 0);
    assert_int_equal(nninit__strmap_get(&m, "layer_50000/kernel", &v), 0);
    assert_int_equal(nninit__strmap_get(&m, "", &v), 0);
    assert_int_equal(v, 7); /* untouched when absent */
    /* a later put of the same name replaces the value, not adds a key */
    assert_int_equal(nninit__strmap_put(&m, "layer_3/kernel", 99), 0);
    assert_int_equal(m.n, N);
    assert_int_equal(nninit__strmap_get(&m, keys[3], &v), 1);
    assert_int_equal(v, 99);
    nninit__strmap_free(&m);
    assert_null(m.slot);
    for (size_t i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
}

static void test_empty_map(void **state)
{
    (void)state;
    nninit__strmap m = NNINIT__STRMAP_INIT;
    size_t v = 0;
    assert_int_equal(nninit__strmap_get(&m, "x", &v), 0);
    nninit__strmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_many),
        cmocka_unit_test(test_empty_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
