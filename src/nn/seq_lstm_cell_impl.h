/* The LSTM cell's elementwise passes (seq_lstm_cell.c), written once for a
 * lane count: the includer has included seq_vmath_impl.h with the same
 * LANES, VM_F, VM_ATTR and VM_NAME, whose vsigmoid and vtanh these use.
 * Each pass walks a row's H units LANES at a time and, per chunk, does the
 * whole step for those units (four gates, new cell, its tanh, new state;
 * backward: the cell gradient, the four gate gradients, the carried cell
 * gradient and the bias sums), so a row's 4H gate values are read and
 * written once. The last chunk of a row is zero-padded in registers: the
 * same operations on the same values, so every width and every H give the
 * same bits. Not a public header. */

/* n (1 .. LANES) floats from p, the other lanes 0 */
VM_ATTR static inline VM_F VM_NAME(cell_load)(const float *p, int64_t n)
{
    VM_F v;
    if (n == LANES) {
        memcpy(&v, p, sizeof v);
    } else {
        float buf[LANES] = {0};
        memcpy(buf, p, (size_t)n * sizeof *buf);
        memcpy(&v, buf, sizeof v);
    }
    return v;
}

VM_ATTR static inline void VM_NAME(cell_store)(float *p, VM_F v, int64_t n)
{
    if (n == LANES) {
        memcpy(p, &v, sizeof v);
    } else {
        float buf[LANES];
        memcpy(buf, &v, sizeof v);
        memcpy(p, buf, (size_t)n * sizeof *buf);
    }
}

VM_ATTR static void VM_NAME(lstm_forward)(float *pre, const float *c_prev, int64_t rows, int64_t H, float *c_new,
                                          float *tanh_c, float *h_new)
{
#define LD(p) VM_NAME(cell_load)((p) + j, n)
#define ST(p, v) VM_NAME(cell_store)((p) + j, (v), n)
    for (int64_t b = 0; b < rows; b++) {
        float *pi = pre + b * 4 * H, *pf = pi + H, *pg = pi + 2 * H, *po = pi + 3 * H;
        const float *cp = c_prev + b * H;
        float *cn = c_new + b * H, *tc = tanh_c + b * H, *hn = h_new + b * H;
        for (int64_t j = 0; j < H; j += LANES) {
            int64_t n = H - j < LANES ? H - j : LANES;
            VM_F i = VM_NAME(vsigmoid)(LD(pi)), f = VM_NAME(vsigmoid)(LD(pf));
            VM_F g = VM_NAME(vtanh)(LD(pg)), o = VM_NAME(vsigmoid)(LD(po));
            VM_F c = CELL_NEW(i, f, g, LD(cp));
            VM_F th = VM_NAME(vtanh)(c);
            ST(pi, i), ST(pf, f), ST(pg, g), ST(po, o);
            ST(cn, c), ST(tc, th), ST(hn, o * th);
        }
    }
}

VM_ATTR static void VM_NAME(lstm_backward)(const float *gates, const float *c_prev, const float *tanh_c,
                                           const float *dh, int64_t rows, int64_t H, float *dc, float *dpre,
                                           float *dbias)
{
    for (int64_t b = 0; b < rows; b++) {
        const float *pi = gates + b * 4 * H, *pf = pi + H, *pg = pi + 2 * H, *po = pi + 3 * H;
        const float *cp = c_prev + b * H, *tc = tanh_c + b * H, *dhr = dh + b * H;
        float *dcr = dc + b * H, *di = dpre + b * 4 * H, *df = di + H, *dg = di + 2 * H, *dout = di + 3 * H;
        for (int64_t j = 0; j < H; j += LANES) {
            int64_t n = H - j < LANES ? H - j : LANES;
            VM_F i = LD(pi), f = LD(pf), g = LD(pg), o = LD(po), th = LD(tc), dhv = LD(dhr);
            VM_F dcv = DC_NEW(LD(dcr), dhv, o, th);
            VM_F vi = D_I(dcv, i, g), vf = D_F(dcv, f, LD(cp)), vg = D_G(dcv, i, g), vo = D_O(dhv, o, th);
            ST(di, vi), ST(df, vf), ST(dg, vg), ST(dout, vo);
            ST(dcr, dcv * f);
            if (dbias) {
                float *bi = dbias, *bf = dbias + H, *bg = dbias + 2 * H, *bo = dbias + 3 * H;
                ST(bi, LD(bi) + vi), ST(bf, LD(bf) + vf), ST(bg, LD(bg) + vg), ST(bo, LD(bo) + vo);
            }
        }
    }
#undef LD
#undef ST
}
