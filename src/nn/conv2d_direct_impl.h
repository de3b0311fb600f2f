/* The direct kernels of a one-channel convolution (conv2d.c), written once
 * for a lane count: the includer defines LANES, CD_F (a float vector of
 * LANES), CD_ATTR (a target attribute or nothing) and CD_NAME(f) (a
 * per-width name), after conv2d.c's direct_run walker and gather_taps.
 * Output channels go LANES at a time, then one at a time; every lane and
 * the scalar tail run the same IEEE operations in the same order (no FMA),
 * so every width gives the same bits. Windows wholly inside the image read
 * their inputs where they lie (broadcast from the image, four outputs at a
 * time so that four sums are in flight); the others gather theirs with
 * zeros for the outside. K (window positions) is a constant where the
 * kernels are inlined with one (the 3x3 case), so the loops over it unroll
 * and the sums stay in registers. Not a public header. */

/* v in every lane ((CD_F){0} + v would add: an instruction, and -0 -> +0) */
CD_ATTR static inline CD_F CD_NAME(splat)(float v)
{
#if LANES == 4
    return (CD_F){v, v, v, v};
#else
    CD_F r;
    for (int l = 0; l < LANES; l++)
        r[l] = v;
    return r;
#endif
}

CD_ATTR static inline CD_F CD_NAME(load)(const float *p)
{
    CD_F v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* One output row z = (x_0 k[0] + x_1 k[1] + ... + x_{K-1} k[K-1]) + b per
 * channel, the products summed in window order, for one output whose K
 * inputs are xv[0 .. K). */
CD_ATTR CD_INLINE static inline void CD_NAME(fwd_one)(const float *xv, const float *k, const float *b, int64_t C,
                                                    float *yr, const int64_t K)
{
    int64_t c = 0;
    for (; c + LANES <= C; c += LANES) {
        CD_F acc = CD_NAME(splat)(xv[0]) * CD_NAME(load)(k + c);
        CD_UNROLL
        for (int64_t t = 1; t < K; t++)
            acc = acc + CD_NAME(splat)(xv[t]) * CD_NAME(load)(k + t * C + c);
        if (b)
            acc = acc + CD_NAME(load)(b + c);
        memcpy(yr + c, &acc, sizeof acc);
    }
    for (; c < C; c++) {
        float acc = xv[0] * k[c];
        for (int64_t t = 1; t < K; t++)
            acc = acc + xv[t] * k[t * C + c];
        yr[c] = b ? acc + b[c] : acc;
    }
}

/* Four outputs whose windows lie inside the image: input (i, j) of output
 * q at xw[i down + j DW + q STEP]. The same operations as fwd_one, per
 * output. KH, KW, DW and STEP are constants where inlined with them. */
CD_ATTR CD_INLINE static inline void CD_NAME(fwd_four)(const float *xw, int64_t down, const float *k, const float *b,
                                                     int64_t C, float *yr, const int64_t KH, const int64_t KW,
                                                     const int64_t DW, const int64_t STEP)
{
    int64_t c = 0;
    for (; c + LANES <= C; c += LANES) {
        CD_F k0 = CD_NAME(load)(k + c);
        CD_F a0 = CD_NAME(splat)(xw[0]) * k0, a1 = CD_NAME(splat)(xw[STEP]) * k0;
        CD_F a2 = CD_NAME(splat)(xw[2 * STEP]) * k0, a3 = CD_NAME(splat)(xw[3 * STEP]) * k0;
        CD_UNROLL
        for (int64_t i = 0; i < KH; i++) {
            CD_UNROLL
            for (int64_t j = i ? 0 : 1; j < KW; j++) {
                CD_F kt = CD_NAME(load)(k + (i * KW + j) * C + c);
                const float *s = xw + i * down + j * DW;
                a0 = a0 + CD_NAME(splat)(s[0]) * kt;
                a1 = a1 + CD_NAME(splat)(s[STEP]) * kt;
                a2 = a2 + CD_NAME(splat)(s[2 * STEP]) * kt;
                a3 = a3 + CD_NAME(splat)(s[3 * STEP]) * kt;
            }
        }
        if (b) {
            CD_F bv = CD_NAME(load)(b + c);
            a0 = a0 + bv;
            a1 = a1 + bv;
            a2 = a2 + bv;
            a3 = a3 + bv;
        }
        memcpy(yr + c, &a0, sizeof a0);
        memcpy(yr + C + c, &a1, sizeof a1);
        memcpy(yr + 2 * C + c, &a2, sizeof a2);
        memcpy(yr + 3 * C + c, &a3, sizeof a3);
    }
    for (int q = 0; c < C && q < 4; q++) {
        float xv[DIRECT_TAPS];
        for (int64_t i = 0; i < KH; i++)
            for (int64_t j = 0; j < KW; j++)
                xv[i * KW + j] = xw[i * down + j * DW + q * STEP];
        for (int64_t o = c; o < C; o++) {
            float acc = xv[0] * k[o];
            for (int64_t t = 1; t < KH * KW; t++)
                acc = acc + xv[t] * k[t * C + o];
            yr[q * C + o] = b ? acc + b[o] : acc;
        }
    }
}

/* z of rows [r0, r1) into y (row r at y + (r - r0) cout). */
CD_ATTR CD_INLINE static inline void CD_NAME(fwd_k)(const nninit__conv_geom *g, const float *x, const float *k,
                                                  const float *b, int64_t r0, int64_t r1, float *y, const int64_t KH,
                                                  const int64_t KW, const int64_t DW, const int64_t STEP)
{
    int64_t C = g->cout, K = KH * KW, down = g->dh * g->w;
    direct_seg sg;
    for (direct_seg_first(g, x, r0, r1, &sg); sg.len > 0; direct_seg_next(g, x, r1, &sg)) {
        float *yr = y + (sg.r - r0) * C;
        int64_t ow = sg.ow, end = sg.ow + sg.len;
        if (sg.rows_in) {
            for (; ow < end && ow < sg.in_lo; ow++, yr += C) {
                float xv[DIRECT_TAPS];
                gather_taps(g, x, sg.n, sg.oh, ow, xv);
                CD_NAME(fwd_one)(xv, k, b, C, yr, K);
            }
            int64_t stop = end < sg.in_hi ? end : sg.in_hi;
            for (; ow + 4 <= stop; ow += 4, yr += 4 * C)
                CD_NAME(fwd_four)(sg.top + ow * STEP - g->pl, down, k, b, C, yr, KH, KW, DW, STEP);
            for (; ow < stop; ow++, yr += C) {
                float xv[DIRECT_TAPS];
                const float *xw = sg.top + ow * STEP - g->pl;
                for (int64_t i = 0; i < KH; i++)
                    for (int64_t j = 0; j < KW; j++)
                        xv[i * KW + j] = xw[i * down + j * DW];
                CD_NAME(fwd_one)(xv, k, b, C, yr, K);
            }
        }
        for (; ow < end; ow++, yr += C) {
            float xv[DIRECT_TAPS];
            gather_taps(g, x, sg.n, sg.oh, ow, xv);
            CD_NAME(fwd_one)(xv, k, b, C, yr, K);
        }
    }
}

CD_ATTR static void CD_NAME(fwd)(const nninit__conv_geom *g, const float *x, const float *k, const float *b,
                                 int64_t r0, int64_t r1, float *y)
{
    if (g->kh == 3 && g->kw == 3 && g->dw == 1 && g->sw == 1)
        CD_NAME(fwd_k)(g, x, k, b, r0, r1, y, 3, 3, 1, 1);
    else
        CD_NAME(fwd_k)(g, x, k, b, r0, r1, y, g->kh, g->kw, g->dw, g->sw);
}

/* sum[t][o] += the kernel gradient of rows [r0, r1) (at most DIRECT_ROWS,
 * within one output row): x_t dy[o] summed over the rows in float, in row
 * order, then added to the double sum, so the result is as exact as a
 * float sum of a few dozen products however many rows the batch has. */
CD_ATTR CD_INLINE static inline void CD_NAME(kgrad_k)(const nninit__conv_geom *g, const float *x, const float *dy,
                                                    const direct_seg *sg, double *sum, const int64_t KH,
                                                    const int64_t KW, const int64_t DW, const int64_t STEP)
{
    int64_t C = g->cout, n = sg->len, K = KH * KW, down = g->dh * g->w;
    float xv[DIRECT_ROWS][DIRECT_TAPS];
    int whole = sg->rows_in && sg->ow >= sg->in_lo && sg->ow + n <= sg->in_hi;
    const float *xw = whole ? sg->top + sg->ow * STEP - g->pl : NULL;
    for (int64_t q = 0; q < n; q++) {
        if (whole) {
            for (int64_t i = 0; i < KH; i++)
                for (int64_t j = 0; j < KW; j++)
                    xv[q][i * KW + j] = xw[i * down + j * DW + q * STEP];
        } else {
            gather_taps(g, x, sg->n, sg->oh, sg->ow + q, xv[q]);
        }
    }
    const float *d0 = dy + sg->r * C;
    int64_t c = 0;
    for (; c + LANES <= C; c += LANES) {
        CD_F acc[DIRECT_TAPS];
        CD_UNROLL
        for (int64_t t = 0; t < K; t++)
            acc[t] = CD_NAME(splat)(0.0f);
        for (int64_t q = 0; q < n; q++) {
            CD_F d = CD_NAME(load)(d0 + q * C + c);
            CD_UNROLL
            for (int64_t t = 0; t < K; t++)
                acc[t] = acc[t] + CD_NAME(splat)(xv[q][t]) * d;
        }
        CD_UNROLL
        for (int64_t t = 0; t < K; t++)
            for (int l = 0; l < LANES; l++)
                sum[t * C + c + l] += (double)acc[t][l];
    }
    for (; c < C; c++)
        for (int64_t t = 0; t < K; t++) {
            float acc = 0.0f;
            for (int64_t q = 0; q < n; q++)
                acc = acc + xv[q][t] * d0[q * C + c];
            sum[t * C + c] += (double)acc;
        }
}

/* sum (kh kw x cout, zeroed by the caller) += the kernel gradient of rows
 * [0, rows), in segments of at most DIRECT_ROWS rows within output rows. */
CD_ATTR static void CD_NAME(kgrad)(const nninit__conv_geom *g, const float *x, const float *dy, int64_t rows,
                                   double *sum)
{
    int fast = g->kh == 3 && g->kw == 3 && g->dw == 1 && g->sw == 1;
    direct_seg sg;
    for (direct_seg_first(g, x, 0, rows, &sg); sg.len > 0; direct_seg_next(g, x, rows, &sg)) {
        direct_seg part = sg;
        for (int64_t q = 0; q < sg.len; q += DIRECT_ROWS) {
            part.r = sg.r + q;
            part.ow = sg.ow + q;
            part.len = sg.len - q < DIRECT_ROWS ? sg.len - q : DIRECT_ROWS;
            if (fast)
                CD_NAME(kgrad_k)(g, x, dy, &part, sum, 3, 3, 1, 1);
            else
                CD_NAME(kgrad_k)(g, x, dy, &part, sum, g->kh, g->kw, g->dw, g->sw);
        }
    }
}
