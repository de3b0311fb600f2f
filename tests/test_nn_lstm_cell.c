/* The LSTM cell's fused elementwise passes (src/nn/seq_lstm_cell.c): every
 * width (4, 8, 16 lanes, the widest this CPU has) gives the same bits for
 * every H (so every zero-padded tail), forward and backward; the values equal
 * the cell's equations evaluated one float at a time with the same rounding
 * (seq_vmath's sigmoid and tanh, the products in the documented order); and
 * the bias sums are the gate gradients' column sums, rows in order. The cell
 * in a whole LSTM is checked by finite differences and against PyTorch
 * (test_nn_seq_grad, test_nn_seq_torch). */
#include "util.h"

#include "nn/internal.h"

static uint64_t lcg = 7;
static float urandf(float scale)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return scale * (float)((double)(lcg >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static float sig1(float x)
{
    float y;
    nninit__vsigmoidf(&x, &y, 1);
    return y;
}

static float tanh1(float x)
{
    float y;
    nninit__vtanhf(&x, &y, 1);
    return y;
}

typedef struct bufs {
    float *pre, *cp, *cn, *tc, *hn, *dh, *dc, *dpre, *db;
} bufs;

static void fill(int64_t R, int64_t H, bufs *b, const bufs *src)
{
    int64_t n4 = R * 4 * H, n1 = R * H;
    float **f[] = {&b->pre, &b->cp, &b->cn, &b->tc, &b->hn, &b->dh, &b->dc, &b->dpre, &b->db};
    int64_t sz[] = {n4, n1, n1, n1, n1, n1, n1, n4, 4 * H};
    const float *s[] = {src ? src->pre : NULL, src ? src->cp : NULL, src ? src->cn : NULL,
                        src ? src->tc : NULL,  src ? src->hn : NULL, src ? src->dh : NULL,
                        src ? src->dc : NULL,  src ? src->dpre : NULL, src ? src->db : NULL};
    for (int i = 0; i < 9; i++) {
        *f[i] = malloc((size_t)sz[i] * sizeof(float));
        if (src) {
            memcpy(*f[i], s[i], (size_t)sz[i] * sizeof(float));
        } else {
            for (int64_t e = 0; e < sz[i]; e++) /* pre-activations wide enough to saturate some gates */
                (*f[i])[e] = urandf(i == 0 ? 12.0f : 1.5f);
        }
    }
}

static void free_bufs(bufs *b)
{
    float *f[] = {b->pre, b->cp, b->cn, b->tc, b->hn, b->dh, b->dc, b->dpre, b->db};
    for (int i = 0; i < 9; i++)
        free(f[i]);
}

static void run(int lanes, int64_t R, int64_t H, bufs *b)
{
    nninit__lstm_cell_forward_lanes(lanes, b->pre, b->cp, R, H, b->cn, b->tc, b->hn);
    nninit__lstm_cell_backward_lanes(lanes, b->pre, b->cp, b->tc, b->dh, R, H, b->dc, b->dpre, b->db);
}

static void test_widths_agree(void **state)
{
    (void)state;
    const int64_t R = 3;
    for (int64_t H = 1; H <= 37; H++) {
        bufs ref, w;
        fill(R, H, &ref, NULL);
        fill(R, H, &w, &ref);
        run(4, R, H, &ref);
        for (int lanes = 8; lanes <= 16; lanes *= 2) {
            bufs x;
            fill(R, H, &x, &w);
            run(lanes, R, H, &x);
            float *a[] = {ref.pre, ref.cn, ref.tc, ref.hn, ref.dc, ref.dpre, ref.db};
            float *c[] = {x.pre, x.cn, x.tc, x.hn, x.dc, x.dpre, x.db};
            int64_t sz[] = {R * 4 * H, R * H, R * H, R * H, R * H, R * 4 * H, 4 * H};
            for (int i = 0; i < 7; i++)
                assert_memory_equal(a[i], c[i], (size_t)sz[i] * sizeof(float));
            free_bufs(&x);
        }
        free_bufs(&ref);
        free_bufs(&w);
    }
}

/* The equations one float at a time, in the order seq_lstm_cell.c documents. */
static void test_equations(void **state)
{
    (void)state;
    const int64_t R = 4, H = 21;
    bufs in, b;
    fill(R, H, &in, NULL);
    fill(R, H, &b, &in);
    run(16, R, H, &b);
    float db[4 * 21];
    memcpy(db, in.db, sizeof db);
    for (int64_t r = 0; r < R; r++)
        for (int64_t j = 0; j < H; j++) {
            const float *p = in.pre + r * 4 * H;
            float i = sig1(p[j]), f = sig1(p[H + j]), g = tanh1(p[2 * H + j]), o = sig1(p[3 * H + j]);
            float cp = in.cp[r * H + j], c = f * cp + i * g, th = tanh1(c);
            const float *q = b.pre + r * 4 * H;
            assert_true(q[j] == i && q[H + j] == f && q[2 * H + j] == g && q[3 * H + j] == o);
            assert_true(b.cn[r * H + j] == c && b.tc[r * H + j] == th && b.hn[r * H + j] == o * th);
            float dh = in.dh[r * H + j], dcv = in.dc[r * H + j] + dh * o * (1.0f - th * th);
            float d[4] = {dcv * g * i * (1.0f - i), dcv * cp * f * (1.0f - f), dcv * i * (1.0f - g * g),
                          dh * th * o * (1.0f - o)};
            for (int k = 0; k < 4; k++) {
                assert_true(b.dpre[r * 4 * H + k * H + j] == d[k]);
                db[k * H + j] += d[k]; /* rows in order */
            }
            assert_true(b.dc[r * H + j] == dcv * f);
        }
    assert_memory_equal(db, b.db, sizeof db);
    /* without a bias gradient nothing else changes, and dpre may be the gates (in place) */
    bufs c;
    fill(R, H, &c, &in);
    nninit__lstm_cell_forward(c.pre, c.cp, R, H, c.cn, c.tc, c.hn);
    nninit__lstm_cell_backward(c.pre, c.cp, c.tc, c.dh, R, H, c.dc, c.pre, NULL);
    assert_memory_equal(c.pre, b.dpre, (size_t)(R * 4 * H) * sizeof(float));
    assert_memory_equal(c.dc, b.dc, (size_t)(R * H) * sizeof(float));
    free_bufs(&c);
    free_bufs(&in);
    free_bufs(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_widths_agree), cmocka_unit_test(test_equations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
