/*
 * Vector Philox4x32-10 and the stream transforms (v1, and v2's and v3's
 * float32 truncated normal), written once over a
 * thin layer of vector operations and included by simd_avx2.c and
 * simd_avx512.c, which define that layer (types vf/vi/vd, masks mf/md, the
 * f_/i32_/i64_/d_ operations, VF_N floats and VD_N doubles a vector, the
 * target attribute T and the entry name KERNEL_RUN).
 *
 * Every transform repeats the reference of dist_philox.c and fmath.c
 * operation for operation: each mul, add, div and sqrt is a separately
 * rounded IEEE operation (the file is compiled with -ffp-contract=off, and
 * no FMA intrinsic appears), conversions are exact, and branches become
 * selects of both sides, except in the inverse normal CDF: its tail branch
 * runs only on the lanes that need it (packed densely), and its rare far
 * tail (p below exp(-25), or NaN) lane by lane in the scalar nninit__ndtri.
 *
 * Philox runs "half dense": each 64-bit lane holds one block's 32-bit word
 * in its low half, so one unsigned 32x32->64 multiply gives both halves of
 * the product (high halves of lanes hold garbage that no step reads).
 * A group is 16 blocks = 64 words, NSET vectors of VD_N blocks.
 */

/* force-inlined into the per-transform loops, so constants stay in registers */
#define INL T static inline __attribute__((always_inline))
/* and kept out of line, where one loop's register allocation must not
 * depend on another's */
#define NOINL T static __attribute__((noinline))
#define NSET (16 / VD_N)
#define NVF (16 / VF_N) /* float vectors of one word index in a group */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

typedef struct pkeys {
    vi k0[10], k1[10]; /* round keys (low 32 bits of each lane) */
    vi m0, m1, c2, c3, lane, mask32;
} pkeys;

T static void philox_init(pkeys *pk, const nninit__dist *d)
{
    for (uint32_t r = 0; r < 10; r++) {
        pk->k0[r] = i64_set((int64_t)(uint32_t)(d->key[0] + r * PHILOX_W0));
        pk->k1[r] = i64_set((int64_t)(uint32_t)(d->key[1] + r * PHILOX_W1));
    }
    pk->m0 = i64_set(PHILOX_M0);
    pk->m1 = i64_set(PHILOX_M1);
    pk->c2 = i64_set((int64_t)(uint32_t)d->stream);
    pk->c3 = i64_set((int64_t)(uint32_t)(d->stream >> 32));
    pk->lane = i64_iota();
    pk->mask32 = i64_set(0xffffffffll);
}

/* Blocks [block, block + nset VD_N): S[s][k] = word k of blocks
 * block + s VD_N + lane. nset is a constant at each call (this is
 * force-inlined), so the loops unroll: every round is written for all sets
 * before the next round, nset independent chains side by side. */
INL void philox_sets(const pkeys *pk, uint64_t block, vi S[][4], int nset)
{
    vi c0[2 * NSET], c1[2 * NSET], c2[2 * NSET], c3[2 * NSET];
#pragma GCC unroll 16
    for (int s = 0; s < nset; s++) {
        vi b = i64_add(i64_set((int64_t)(block + (uint64_t)(s * VD_N))), pk->lane);
        c0[s] = b;
        c1[s] = i64_srli(b, 32);
        c2[s] = pk->c2;
        c3[s] = pk->c3;
    }
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
#pragma GCC unroll 16
        for (int s = 0; s < nset; s++) {
            vi p0 = mul_epu32(c0[s], pk->m0);
            vi p1 = mul_epu32(c2[s], pk->m1);
            c0[s] = xor3(i64_srli(p1, 32), c1[s], pk->k0[r]);
            c1[s] = p1;
            c2[s] = xor3(i64_srli(p0, 32), c3[s], pk->k1[r]);
            c3[s] = p0;
        }
    }
#pragma GCC unroll 16
    for (int s = 0; s < nset; s++) {
        S[s][0] = c0[s];
        S[s][1] = c1[s];
        S[s][2] = c2[s];
        S[s][3] = c3[s];
    }
}

/* Blocks [block, block + 16) (one group) */
INL void philox16(const pkeys *pk, uint64_t block, vi S[NSET][4]) { philox_sets(pk, block, S, NSET); }

/* Groups a step where the rounds of PG groups interleave (PG = 2 where the
 * 32 vector registers hold twice the chains: each round's multiply ->
 * shift -> xor chain is ~6 cycles, and one group's 4 chains, ~120
 * instructions, did not fill the pipes; 1 with 16 registers). */
#ifndef PG
#define PG 1
#endif

/* 64-bit words hi:lo of two half-dense word vectors. */
INL vi join64(const pkeys *pk, vi hi, vi lo) { return i_or(i64_slli(hi, 32), i_and(lo, pk->mask32)); }

/* ---- float32 transforms (fmath.c nninit__logf, nninit__sincos2pif) ---- */

/* The float32 functions on n vectors in lockstep (n a constant at each
 * call, the loops unroll): each step for all n before the next, so that n
 * independent chains sit side by side in the instruction stream. Each
 * vector gets exactly the operations of the one-vector version. */
#define EACH(i, n) _Pragma("GCC unroll 8") for (int i = 0; i < (n); i++)

INL void logf_vn(vf *x, int n)
{
    const float LN2_HI = 0.693359375f;
    const float LN2_LO = -2.12194440e-4f;
    vi e[4];
    vf m[4], s[4], z[4], p[4];
    EACH(i, n)
    {
        vi bits = f_bits(x[i]);
        e[i] = i32_sub(i32_srli(bits, 23), i32_set(127));
        m[i] = f_from_bits(i_andor(bits, i32_set(0x007fffff), i32_set(0x3f800000)));
    }
    EACH(i, n)
    {
        mf big = i32_gt(f_bits(m[i]), i32_set(0x3fb504f3));
        m[i] = f_sel(big, f_mul(m[i], f_set(0.5f)), m[i]);
        e[i] = i32_sel(big, i32_add(e[i], i32_set(1)), e[i]);
    }
    EACH(i, n) s[i] = f_div(f_sub(m[i], f_set(1.0f)), f_add(m[i], f_set(1.0f)));
    EACH(i, n) z[i] = f_mul(s[i], s[i]);
    EACH(i, n) p[i] = f_add(f_mul(f_set(1.0f / 11.0f), z[i]), f_set(1.0f / 9.0f));
    EACH(i, n) p[i] = f_add(f_mul(p[i], z[i]), f_set(1.0f / 7.0f));
    EACH(i, n) p[i] = f_add(f_mul(p[i], z[i]), f_set(1.0f / 5.0f));
    EACH(i, n) p[i] = f_add(f_mul(p[i], z[i]), f_set(1.0f / 3.0f));
    EACH(i, n)
    {
        vf r = f_mul(s[i], z[i]);
        r = f_mul(r, p[i]);
        r = f_add(r, s[i]);
        r = f_mul(r, f_set(2.0f));
        vf ef = f_from_i32(e[i]);
        x[i] = f_add(f_add(f_mul(ef, f_set(LN2_LO)), r), f_mul(ef, f_set(LN2_HI)));
    }
}

INL vf logf_v(vf x)
{
    logf_vn(&x, 1);
    return x;
}

INL void sincos2pif_vn(const vf *u, vf *s, vf *c, int n)
{
    const float PI_4 = 0.785398163397448309616f;
    vi k[4];
    vf y[4], z[4], ps[4], pc[4];
    EACH(i, n)
    {
        vf t = f_mul(u[i], f_set(8.0f));
        k[i] = f_to_i32_trunc(t);
        vf f = f_sub(t, f_from_i32(k[i]));
        vf g = f_sel(i_test32(k[i], i32_set(1)), f_sub(f_set(1.0f), f), f);
        y[i] = f_mul(g, f_set(PI_4));
    }
    EACH(i, n) z[i] = f_mul(y[i], y[i]);
    EACH(i, n) ps[i] = f_sub(f_mul(f_set(1.0f / 362880.0f), z[i]), f_set(1.0f / 5040.0f));
    EACH(i, n) pc[i] = f_add(f_mul(f_set(-1.0f / 3628800.0f), z[i]), f_set(1.0f / 40320.0f));
    EACH(i, n) ps[i] = f_add(f_mul(ps[i], z[i]), f_set(1.0f / 120.0f));
    EACH(i, n) pc[i] = f_sub(f_mul(pc[i], z[i]), f_set(1.0f / 720.0f));
    EACH(i, n) ps[i] = f_sub(f_mul(ps[i], z[i]), f_set(1.0f / 6.0f));
    EACH(i, n) pc[i] = f_add(f_mul(pc[i], z[i]), f_set(1.0f / 24.0f));
    EACH(i, n) pc[i] = f_sub(f_mul(pc[i], z[i]), f_set(0.5f));
    EACH(i, n)
    {
        vf sy = f_mul(y[i], z[i]);
        sy = f_mul(sy, ps[i]);
        sy = f_add(sy, y[i]);
        vf cy = f_mul(z[i], pc[i]);
        cy = f_add(cy, f_set(1.0f));
        /* octants: swap for k in {1,2,5,6}, sin negative for k >= 4, cos for k in 2..5 */
        mf swap = i_test32(i32_add(k[i], i32_set(1)), i32_set(2));
        mf sneg = i_test32(k[i], i32_set(4));
        mf cneg = i_test32(i32_add(k[i], i32_set(2)), i32_set(4));
        s[i] = f_neg_if(sneg, f_sel(swap, cy, sy));
        c[i] = f_neg_if(cneg, f_sel(swap, sy, cy));
    }
}

INL void sincos2pif_v(vf u, vf *s, vf *c) { sincos2pif_vn(&u, s, c, 1); }

/* ---- float64 transforms (fmath.c nninit__log, nninit__sincos2pi, nninit__ndtri) ---- */

T static inline vd log_v(vd x)
{
    vi bits = d_bits(x);
    vi e = i64_sub(i64_srli(bits, 52), i64_set(1023));
    vd m = d_from_bits(i_andor(bits, i64_set(0x000fffffffffffffll), i64_set(0x3ff0000000000000ll)));
    md big = i64_gt(d_bits(m), i64_set(0x3ff6a09e667f3bcdll));
    m = d_sel(big, d_mul(m, d_set(0.5)), m);
    e = i64_sel(big, i64_add(e, i64_set(1)), e);
    const double LN2_HI = 6.93147180369123816490e-01;
    const double LN2_LO = 1.90821492927058770002e-10;
    vd s = d_div(d_sub(m, d_set(1.0)), d_add(m, d_set(1.0)));
    vd z = d_mul(s, s);
    vd p = d_set(1.0 / 21.0);
    p = d_add(d_mul(p, z), d_set(1.0 / 19.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 17.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 15.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 13.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 11.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 9.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 7.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 5.0));
    p = d_add(d_mul(p, z), d_set(1.0 / 3.0));
    vd r = d_mul(s, z);
    r = d_mul(r, p);
    r = d_add(r, s);
    r = d_mul(r, d_set(2.0));
    vd ed = d_from_i64small(e);
    return d_add(d_add(d_mul(ed, d_set(LN2_LO)), r), d_mul(ed, d_set(LN2_HI)));
}

T static inline void sincos2pi_v(vd u, vd *s, vd *c)
{
    vd t = d_mul(u, d_set(8.0));
    vi k = d_to_i64_trunc(t);
    vd f = d_sub(t, d_from_i64small(k));
    vd g = d_sel(i64_test(k, i64_set(1)), d_sub(d_set(1.0), f), f);
    const double PI_4 = 0.785398163397448309616;
    vd y = d_mul(g, d_set(PI_4));
    vd z = d_mul(y, y);
    vd ps = d_set(1.0 / 355687428096000.0);
    ps = d_sub(d_mul(ps, z), d_set(1.0 / 1307674368000.0));
    ps = d_add(d_mul(ps, z), d_set(1.0 / 6227020800.0));
    ps = d_sub(d_mul(ps, z), d_set(1.0 / 39916800.0));
    ps = d_add(d_mul(ps, z), d_set(1.0 / 362880.0));
    ps = d_sub(d_mul(ps, z), d_set(1.0 / 5040.0));
    ps = d_add(d_mul(ps, z), d_set(1.0 / 120.0));
    ps = d_sub(d_mul(ps, z), d_set(1.0 / 6.0));
    vd sy = d_mul(y, z);
    sy = d_mul(sy, ps);
    sy = d_add(sy, y);
    vd pc = d_set(-1.0 / 6402373705728000.0);
    pc = d_add(d_mul(pc, z), d_set(1.0 / 20922789888000.0));
    pc = d_sub(d_mul(pc, z), d_set(1.0 / 87178291200.0));
    pc = d_add(d_mul(pc, z), d_set(1.0 / 479001600.0));
    pc = d_sub(d_mul(pc, z), d_set(1.0 / 3628800.0));
    pc = d_add(d_mul(pc, z), d_set(1.0 / 40320.0));
    pc = d_sub(d_mul(pc, z), d_set(1.0 / 720.0));
    pc = d_add(d_mul(pc, z), d_set(1.0 / 24.0));
    pc = d_sub(d_mul(pc, z), d_set(0.5));
    vd cy = d_mul(z, pc);
    cy = d_add(cy, d_set(1.0));
    md swap = i64_test(i64_add(k, i64_set(1)), i64_set(2));
    md sneg = i64_test(k, i64_set(4));
    md cneg = i64_test(i64_add(k, i64_set(2)), i64_set(4));
    *s = d_neg_if(sneg, d_sel(swap, cy, sy));
    *c = d_neg_if(cneg, d_sel(swap, sy, cy));
}

/* Wichura's AS 241 coefficients, the literals of fmath.c (highest first). */
static const double NDTRI_A[8] = {2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
                                  4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
                                  1.3314166789178437745e+2, 3.3871328727963666080e+0};
static const double NDTRI_B[8] = {5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
                                  2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
                                  4.2313330701600911252e+1, 1.0};
static const double NDTRI_C[8] = {7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
                                  1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
                                  4.63033784615654529590e+0, 1.42343711074968357734e+0};
static const double NDTRI_D[8] = {1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
                                  1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
                                  2.05319162663775882187e+0, 1.0};

T static inline vd horner8_v(const double c[8], vd x)
{
    vd v = d_set(c[0]);
#pragma GCC unroll 8
    for (int i = 1; i < 8; i++)
        v = d_add(d_mul(v, x), d_set(c[i]));
    return v;
}

/* ndtri's central branch, |p - 1/2| <= 0.425; *tail marks the other lanes. */
INL vd ndtri_central_v(vd p, md *tail)
{
    vd q = d_sub(p, d_set(0.5));
    *tail = md_not(d_le(d_abs(q), d_set(0.425)));
    vd r = d_sub(d_set(0.180625), d_mul(q, q));
    return d_div(d_mul(q, horner8_v(NDTRI_A, r)), horner8_v(NDTRI_B, r));
}

/* ndtri for lanes outside the central branch. */
T static vd ndtri_tail_v(vd p)
{
    vd q = d_sub(p, d_set(0.5));
    md neg = d_lt(q, d_set(0.0));
    vd t = d_sel(neg, p, d_sub(d_set(1.0), p));
    t = d_sqrt(d_neg(log_v(t)));
    md near = d_le(t, d_set(5.0)); /* false for NaN, as the reference's r <= 5 */
    t = d_sub(t, d_set(1.6));
    vd v = d_div(horner8_v(NDTRI_C, t), horner8_v(NDTRI_D, t));
    v = d_neg_if(neg, v);
    unsigned far = md_bits(md_not(near));
    if (far) {
        /* p < exp(-25) or NaN: the reference's other branch, lane by lane */
        double pl[VD_N], vl[VD_N];
        d_store(pl, p);
        d_store(vl, v);
        for (int i = 0; i < VD_N; i++)
            if (far >> i & 1u)
                vl[i] = nninit__ndtri(pl[i]);
        v = d_load(vl);
    }
    return v;
}

/* ---- the transforms of dist_philox.c ---- */

/* The float32 uniform's parameters as vectors, in a local copy that the
 * output stores cannot alias (read through d, they were reloaded for every
 * vector). */
typedef struct upar {
    vf width24, width, lo, hi, below_hi;
    int clamp;
} upar;

INL upar uniform_par(const nninit__dist *d)
{
    upar u = {f_set(d->width24_f), f_set(d->width_f), f_set(d->lo_f), f_set(d->hi_f), f_set(d->below_hi_f),
              d->clamp_f};
    return u;
}

INL vf uniform_f32(const upar *u, vi w, int fold)
{
    vf v;
    if (fold) /* (w >> 8) * (width 2^-24): the same bits (dist_philox.c) */
        v = f_mul(f_from_i32(i32_srli(w, 8)), u->width24);
    else
        v = f_mul(f_mul(f_from_i32(i32_srli(w, 8)), f_set(0x1p-24f)), u->width);
    v = f_add(v, u->lo);
    if (u->clamp)
        v = f_sel(f_ge(v, u->hi), u->below_hi, v);
    return v;
}

T static inline vd uniform_f64(const nninit__dist *d, vi x)
{
    vd u = d_mul(d_from_u53(i64_srli(x, 11)), d_set(0x1p-53));
    vd v = d_mul(u, d_set(d->width));
    v = d_add(v, d_set(d->lo));
    if (d->clamp)
        v = d_sel(d_ge(v, d_set(d->hi)), d_set(d->below_hi), v);
    return v;
}

/* n pairs of vectors (radius words wr, angle words wa) in lockstep;
 * std and mean: d->std_f and d->mean_f */
INL void normal_f32_n(vf std, vf mean, const vi *wr, const vi *wa, vf *z0, vf *z1, int n)
{
    vf r[4], u2[4], s[4], c[4];
    EACH(i, n) r[i] = f_mul(f_from_i32(i32_add(i32_srli(wr[i], 8), i32_set(1))), f_set(0x1p-24f));
    EACH(i, n) u2[i] = f_mul(f_from_i32(i32_srli(wa[i], 8)), f_set(0x1p-24f));
    logf_vn(r, n);
    EACH(i, n) r[i] = f_sqrt(f_mul(f_set(-2.0f), r[i]));
    sincos2pif_vn(u2, s, c, n);
    EACH(i, n)
    {
        vf a = f_mul(r[i], c[i]), b = f_mul(r[i], s[i]);
        a = f_mul(a, std);
        b = f_mul(b, std);
        z0[i] = f_add(a, mean);
        z1[i] = f_add(b, mean);
    }
}

T static inline void normal_f64(const nninit__dist *d, vi x1, vi x2, vd *z0, vd *z1)
{
    vd u1 = d_mul(d_from_u53(i64_add(i64_srli(x1, 11), i64_set(1))), d_set(0x1p-53));
    vd u2 = d_mul(d_from_u53(i64_srli(x2, 11)), d_set(0x1p-53));
    vd r = d_sqrt(d_mul(d_set(-2.0), log_v(u1)));
    vd s, c;
    sincos2pi_v(u2, &s, &c);
    vd a = d_mul(r, c), b = d_mul(r, s);
    a = d_mul(a, d_set(d->std));
    b = d_mul(b, d_set(d->std));
    *z0 = d_add(a, d_set(d->mean));
    *z1 = d_add(b, d_set(d->mean));
}

/* Truncated normal, in batches: p and the central branch of ndtri for
 * every lane, the lanes outside it (about 11 % for +-2 sigma) packed into a
 * list and run through the tail branch densely, then the affine map, the
 * clamps and the stores. Lane order inside a group: float32 slot
 * (s, k, j) = word k of block s VD_N + j, float64 slot (s, h, j) = half h
 * (words 0:1 or 2:3) of that block; the stores undo it. */
#define TB 8 /* groups a batch */

typedef struct tbatch {
    double z[TB * 64];
    double tp[TB * 64 + VD_N]; /* p of tail lanes, padded to whole vectors */
    uint16_t ti[TB * 64];      /* their slots */
    int nt;
} tbatch;

INL void trunc_slot(const nninit__dist *d, tbatch *tb, int slot, vd u)
{
    vd p = d_mul(u, d_set(d->pwidth));
    p = d_add(p, d_set(d->pa));
    md tail;
    d_store(tb->z + slot, ndtri_central_v(p, &tail));
    unsigned bits = md_bits(tail);
    if (bits) {
        double pl[VD_N];
        d_store(pl, p);
        do {
            int i = __builtin_ctz(bits);
            tb->ti[tb->nt] = (uint16_t)(slot + i);
            tb->tp[tb->nt++] = pl[i];
            bits &= bits - 1;
        } while (bits);
    }
}

T static void trunc_tails(tbatch *tb)
{
    for (int i = tb->nt; i < tb->nt + VD_N; i++)
        tb->tp[i] = 0.01; /* padding lanes: any tail value */
    for (int j = 0; j < tb->nt; j += VD_N) {
        double v[VD_N];
        d_store(v, ndtri_tail_v(d_load(tb->tp + j)));
        for (int i = 0; i < VD_N && j + i < tb->nt; i++)
            tb->z[tb->ti[j + i]] = v[i];
    }
}

INL vd trunc_final(const nninit__dist *d, vd z)
{
    vd v = d_mul(z, d_set(d->sgn_std));
    v = d_add(v, d_set(d->mean));
    v = d_sel(d_lt(v, d_set(d->a)), d_set(d->a), v);
    v = d_sel(d_gt(v, d_set(d->b)), d_set(d->b), v);
    return v;
}

/* Stream v2's float32 truncated normal (trunc2_f32 of dist_philox.c): one
 * word an element, like uniform, through the single-precision erfinv; its
 * tail polynomial only for vectors with a lane beyond |y| ~ 0.9966. */
INL vf horner9f_v(const float c[9], vf s)
{
    vf p = f_set(c[0]);
#pragma GCC unroll 8
    for (int k = 1; k < 9; k++)
        p = f_add(f_mul(p, s), f_set(c[k]));
    return p;
}

/* y of an element before the clamp: u * ywidth + ya, with u = k 2^-24 for
 * the odd 24-bit k = (w >> 8) | 1. One multiply: k * (ywidth 2^-24) is the
 * same real as u * ywidth, so it rounds the same (ywidth >= 1/8, so ywidth
 * 2^-24 is an exact normal float and no product is subnormal) */
INL vf trunc2_y_raw(const nninit__dist *d, vi w)
{
    vf k = f_from_i32(i_or(i32_srli(w, 8), i32_set(1)));
    return f_add(f_mul(k, f_set(d->ywidth_f * 0x1p-24f)), f_set(d->ya_f));
}

/* clamped to +-(1 - 2^-23) */
INL vf trunc2_clamp_y(vf y) { return f_max(f_set(-0x1.fffffcp-1f), f_min(f_set(0x1.fffffcp-1f), y)); }

/* v2's erfinv (nninit__trunc2_erfinvf) */
INL vf erfinv2_v(vf y)
{
    const vf one = f_set(1.0f);
    vf wl = f_neg(logf_v(f_mul(f_sub(one, y), f_add(one, y))));
    mf tail = f_ge(wl, f_set(5.0f));
    vf p = horner9f_v(nninit__erfinv_p, f_sub(wl, f_set(2.5f)));
    if (mf_any(tail))
        p = f_sel(tail, horner9f_v(nninit__erfinv_q, f_sub(f_sqrt(wl), f_set(3.0f))), p);
    return f_mul(p, y);
}

/* erfinv(y) * k + mean, clamped to [a, b] */
INL vf trunc2_out(const nninit__dist *d, vf e)
{
    vf v = f_add(f_mul(e, f_set(d->k_f)), f_set(d->mean_f));
    return f_min(f_set(d->b_f), f_max(f_set(d->a_f), v));
}

INL vf trunc2_f32(const nninit__dist *d, vi w) { return trunc2_out(d, erfinv2_v(trunc2_clamp_y(trunc2_y_raw(d, w)))); }

/* Stream v3 (nninit__trunc3_erfinvf): the table polynomial on every lane,
 * v2's erfinv only for vectors with a lane beyond |y| = 1 - 2^-8. The clamp
 * of y to +-(1 - 2^-23) changes no lane the table serves, so only that
 * branch applies it. */
INL vf trunc3_f32(const nninit__dist *d, const ftab tab[5], vi w)
{
    vf y = trunc2_y_raw(d, w);
    vf x = f_min(f_set(0x1.fffffep-1f), f_sub(f_set(1.0f), f_abs(y)));
    mf in = f_ge(x, f_set(0x1p-8f));
    vi b = f_bits(x);
    vi j = i32_srli(b, 21);
    /* t = (low 21 bits of b) - 2^20, exactly: those bits below the exponent
     * of 2^23 make the float 2^23 + m, and (2^23 + m) - (2^23 + 2^20) is an
     * integer below 2^21 in magnitude (one and-or and a subtract, no convert) */
    vf t = f_sub(f_from_bits(i_andor(b, i32_set(0x1fffff), i32_set(0x4b000000))), f_set(0x1.2p23f));
    vf g = f_lookup(tab[0], j);
#pragma GCC unroll 4
    for (int k = 1; k < 5; k++)
        g = f_add(f_mul(g, t), f_lookup(tab[k], j));
    vf e = f_mul(g, y);
    if (!mf_all(in))
        e = f_sel(in, e, erfinv2_v(trunc2_clamp_y(y)));
    return trunc2_out(d, e);
}

/* One loop per transform and dtype, so each keeps its round keys and
 * constants in registers. Groups of 16 blocks; float32 element i lives in
 * word i (block i/4); float64 element i in words 2i, 2i+1 (block i/2), and
 * a float64 normal pair in one block. */

/* Uniform, one word an element (fold: the one-multiply transform). fold is
 * a constant at each call, so each gets its own loop. The words of each
 * set go to element order first (words4: 2 permutes a vector), so the
 * transformed vectors are stored as they are. */
INL void run_uniform_loop_f32(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, float *o,
                              int fold)
{
    vi S[PG * NSET][4];
    const upar u = uniform_par(d);
    for (size_t g = 0; g < groups; g += PG, o += 64 * PG) {
        int whole = groups - g >= PG; /* else the last group alone */
        if (whole)
            philox_sets(pk, block0 + 16 * g, S, PG * NSET);
        else
            philox16(pk, block0 + 16 * g, S);
#pragma GCC unroll 16
        for (int s = 0; s < PG * NSET; s++) {
            if (s >= NSET && !whole)
                break;
            vi lo, hi;
            words4(S[s][0], S[s][1], S[s][2], S[s][3], &lo, &hi);
            f_storeu(o + 2 * VF_N * s, uniform_f32(&u, lo, fold));
            f_storeu(o + 2 * VF_N * s + VF_N, uniform_f32(&u, hi, fold));
        }
    }
}

T static void run_trunc_f32(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, float *o)
{
    vi S[NSET][4];
    tbatch tb;
    const vd half = d_set(0.5), scale = d_set(0x1p-32);
    for (size_t g0 = 0; g0 < groups; g0 += TB) {
        size_t nb = groups - g0 < TB ? groups - g0 : TB;
        tb.nt = 0;
        for (size_t b = 0; b < nb; b++) {
            philox16(pk, block0 + 16 * (g0 + b), S);
#pragma GCC unroll 8
            for (int s = 0; s < NSET; s++)
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++)
                    trunc_slot(d, &tb, (int)b * 64 + (s * 4 + k) * VD_N,
                               d_mul(d_add(d_from_u32lo(S[s][k]), half), scale));
        }
        if (tb.nt)
            trunc_tails(&tb);
        for (size_t b = 0; b < nb; b++, o += 64) {
            const double *z = tb.z + b * 64;
#pragma GCC unroll 4
            for (int v = 0; v < NVF; v++) {
                vf R[4];
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++)
                    R[k] = f_from_pd2(trunc_final(d, d_load(z + (2 * v * 4 + k) * VD_N)),
                                      trunc_final(d, d_load(z + ((2 * v + 1) * 4 + k) * VD_N)));
                store_f32x4(o + 4 * VF_N * v, R[0], R[1], R[2], R[3]);
            }
        }
    }
}

T static void run_trunc_f64(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, double *o)
{
    vi S[NSET][4];
    tbatch tb;
    const vd half = d_set(0.5), scale = d_set(0x1p-53);
    for (size_t g0 = 0; g0 < groups; g0 += TB) {
        size_t nb = groups - g0 < TB ? groups - g0 : TB;
        tb.nt = 0;
        for (size_t b = 0; b < nb; b++) {
            philox16(pk, block0 + 16 * (g0 + b), S);
#pragma GCC unroll 8
            for (int s = 0; s < NSET; s++) {
                vi x01 = join64(pk, S[s][0], S[s][1]), x23 = join64(pk, S[s][2], S[s][3]);
                trunc_slot(d, &tb, (int)b * 32 + (s * 2) * VD_N,
                           d_mul(d_add(d_from_u53(i64_srli(x01, 11)), half), scale));
                trunc_slot(d, &tb, (int)b * 32 + (s * 2 + 1) * VD_N,
                           d_mul(d_add(d_from_u53(i64_srli(x23, 11)), half), scale));
            }
        }
        if (tb.nt)
            trunc_tails(&tb);
        for (size_t b = 0; b < nb; b++, o += 32) {
            const double *z = tb.z + b * 32;
#pragma GCC unroll 8
            for (int s = 0; s < NSET; s++)
                store_f64x2(o + 2 * VD_N * s, trunc_final(d, d_load(z + (s * 2) * VD_N)),
                            trunc_final(d, d_load(z + (s * 2 + 1) * VD_N)));
        }
    }
}

INL void run_f64(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, double *o,
                 nninit__dist_kind kind)
{
    vi S[NSET][4];
    for (size_t g = 0; g < groups; g++, o += 32) {
        philox16(pk, block0 + 16 * g, S);
#pragma GCC unroll 8
        for (int s = 0; s < NSET; s++) {
            vi x01 = join64(pk, S[s][0], S[s][1]), x23 = join64(pk, S[s][2], S[s][3]);
            vd D0, D1;
            if (kind == NNINIT__DIST_UNIFORM) {
                D0 = uniform_f64(d, x01);
                D1 = uniform_f64(d, x23);
            } else {
                normal_f64(d, x01, x23, &D0, &D1);
            }
            store_f64x2(o + 2 * VD_N * s, D0, D1);
        }
    }
}

/* Each loop in a function of its own, so that the register allocation of
 * one does not depend on the others (inlined together into KERNEL_RUN, a
 * change to one loop moved another's speed by up to 40 %). */
NOINL void run_uniform_f32(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, float *o)
{
    run_uniform_loop_f32(d, pk, block0, groups, o, 0);
}

NOINL void run_uniform_fold_f32(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, float *o)
{
    run_uniform_loop_f32(d, pk, block0, groups, o, 1);
}

/* Two phases for the float32 transforms that need many constants (normal,
 * format-2 and -3 truncated normal): Philox fills an L1 buffer with the words of
 * WB groups, then the transform reads them back. Each phase is a function of
 * its own, so the 20 round keys and the transform's constants are never
 * live at once (together they overflow the 32 vector registers and spill).
 * Buffer layout per group: 4 * NVF vectors, vector 4v + k = word k of the
 * blocks of float vector v (pack_lo32 order, as the uniform loop packs them). */
#define WB 16

/* The words of WB groups in element order (word i at buf[i]), for the
 * elementwise transforms (the truncated normals). */
NOINL void philox_elems_f32(const pkeys *pk, uint64_t block0, size_t groups, uint32_t *buf)
{
    vi S[PG * NSET][4];
    for (size_t g = 0; g < groups; g += PG, buf += 64 * PG) {
        int whole = groups - g >= PG; /* else the last group alone */
        if (whole)
            philox_sets(pk, block0 + 16 * g, S, PG * NSET);
        else
            philox16(pk, block0 + 16 * g, S);
#pragma GCC unroll 16
        for (int s = 0; s < PG * NSET; s++) {
            if (s >= NSET && !whole)
                break;
            vi lo, hi;
            words4(S[s][0], S[s][1], S[s][2], S[s][3], &lo, &hi);
            i_storeu(buf + 2 * VF_N * s, lo);
            i_storeu(buf + 2 * VF_N * s + VF_N, hi);
        }
    }
}

NOINL void philox_words_f32(const pkeys *pk, uint64_t block0, size_t groups, uint32_t *buf)
{
    vi S[PG * NSET][4];
    for (size_t g = 0; g < groups; g += PG, buf += 64 * PG) {
        int whole = groups - g >= PG; /* else the last group alone */
        if (whole)
            philox_sets(pk, block0 + 16 * g, S, PG * NSET);
        else
            philox16(pk, block0 + 16 * g, S);
#pragma GCC unroll 8
        for (int v = 0; v < PG * NVF; v++) {
            if (v >= NVF && !whole)
                break;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
                i_storeu(buf + VF_N * (4 * v + k), pack_lo32(S[2 * v][k], S[2 * v + 1][k]));
        }
    }
}

/* Format 2's truncated normal over words in element order. */
NOINL void trunc2_words_f32(const nninit__dist *d, const uint32_t *buf, size_t groups, float *o)
{
    for (size_t i = 0; i < 64 * groups; i += VF_N)
        f_storeu(o + i, trunc2_f32(d, i_loadu(buf + i)));
}

/* Format 3, TL vectors in lockstep: each step of trunc3_f32 written for
 * all TL before the next, so that the out-of-order core sees TL
 * independent chains side by side (one vector's chain of ~25 dependent
 * operations, written alone, left the pipes idle). Same operations, same
 * bits as trunc3_f32, the one-vector reference. The parameters live in a
 * local copy (t3par), which the output stores cannot alias, so they stay
 * in registers. */
#define TL 2
typedef struct t3par {
    vf yw24, ya, k, mean, a, b;
    ftab tab[5];
} t3par;

INL void trunc3_lockstep(const t3par *c, const vi w[TL], vf e[TL], int plain)
{
    const vf one = f_set(1.0f);
    vf y[TL], x[TL], t[TL];
    vi j[TL];
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        y[i] = f_from_i32(i_or(i32_srli(w[i], 8), i32_set(1)));
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        y[i] = f_add(f_mul(y[i], c->yw24), c->ya);
    /* plain (d->trunc3_plain): no y within 2^-25 of 0, so no x to clamp
     * below 1, and every lane in the table */
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        x[i] = plain ? f_sub(one, f_abs(y[i])) : f_min(f_set(0x1.fffffep-1f), f_sub(one, f_abs(y[i])));
    mf in = f_ge(x[0], f_set(0x1p-8f));
#pragma GCC unroll 8
    for (int i = 1; i < TL; i++)
        if (!plain)
            in = mf_and(in, f_ge(x[i], f_set(0x1p-8f)));
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++) {
        vi b = f_bits(x[i]);
        j[i] = i32_srli(b, 21);
        t[i] = f_sub(f_from_bits(i_andor(b, i32_set(0x1fffff), i32_set(0x4b000000))), f_set(0x1.2p23f));
    }
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        e[i] = f_lookup(c->tab[0], j[i]);
#pragma GCC unroll 4
    for (int k = 1; k < 5; k++)
#pragma GCC unroll 8
        for (int i = 0; i < TL; i++)
            e[i] = f_add(f_mul(e[i], t[i]), f_lookup(c->tab[k], j[i]));
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        e[i] = f_mul(e[i], y[i]);
    if (!plain && !mf_all(in)) /* a lane beyond the table: v2's erfinv there */
#pragma GCC unroll 8
        for (int i = 0; i < TL; i++) {
            mf m = f_ge(x[i], f_set(0x1p-8f));
            if (!mf_all(m))
                e[i] = f_sel(m, e[i], erfinv2_v(trunc2_clamp_y(y[i])));
        }
    /* trunc2_out: erfinv(y) * k + mean, clamped to [a, b] */
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        e[i] = f_add(f_mul(e[i], c->k), c->mean);
#pragma GCC unroll 8
    for (int i = 0; i < TL; i++)
        e[i] = f_min(c->b, f_max(c->a, e[i]));
}

/* Format 3 over words in element order, TL vectors a step; plain is a
 * constant at each call, so each gets its own loop. */
INL void trunc3_words_loop(const nninit__dist *d, const uint32_t *buf, size_t groups, float *o, int plain)
{
    t3par c;
    c.yw24 = f_set(d->ywidth_f * 0x1p-24f);
    c.ya = f_set(d->ya_f);
    c.k = f_set(d->k_f);
    c.mean = f_set(d->mean_f);
    c.a = f_set(d->a_f);
    c.b = f_set(d->b_f);
    for (int k = 0; k < 5; k++)
        c.tab[k] = f_tab(nninit__trunc3_table[k]);
    for (size_t i = 0; i < 64 * groups; i += TL * VF_N) {
        vi w[TL];
        vf R[TL];
#pragma GCC unroll 8
        for (int k = 0; k < TL; k++)
            w[k] = i_loadu(buf + i + VF_N * k);
        trunc3_lockstep(&c, w, R, plain);
#pragma GCC unroll 8
        for (int k = 0; k < TL; k++)
            f_storeu(o + i + VF_N * k, R[k]);
    }
}

NOINL void trunc3_words_f32(const nninit__dist *d, const uint32_t *buf, size_t groups, float *o)
{
    if (d->trunc3_plain)
        trunc3_words_loop(d, buf, groups, o, 1);
    else
        trunc3_words_loop(d, buf, groups, o, 0);
}

/* The two pairs of a float vector in lockstep (words 0, 1 and 2, 3 of its
 * blocks); std and mean in locals, which the stores cannot alias. */
NOINL void normal_words_f32(const nninit__dist *d, const uint32_t *buf, size_t groups, float *o)
{
    const vf std = f_set(d->std_f), mean = f_set(d->mean_f);
    for (size_t g = 0; g < groups; g++, buf += 64, o += 64)
#pragma GCC unroll 4
        for (int v = 0; v < NVF; v++) {
            const uint32_t *b = buf + VF_N * 4 * v;
            vi wr[2] = {i_loadu(b), i_loadu(b + 2 * VF_N)}, wa[2] = {i_loadu(b + VF_N), i_loadu(b + 3 * VF_N)};
            vf z0[2], z1[2];
            normal_f32_n(std, mean, wr, wa, z0, z1, 2);
            store_f32x4(o + 4 * VF_N * v, z0[0], z1[0], z0[1], z1[1]);
        }
}

/* uniform over words in element order (only KERNEL_WORDS_F32: the fill
 * runs the one-phase loop) */
NOINL void uniform_words_f32(const nninit__dist *d, const uint32_t *buf, size_t groups, float *o)
{
    const upar u = uniform_par(d);
    for (size_t i = 0; i < 64 * groups; i += VF_N)
        f_storeu(o + i, d->fold_f ? uniform_f32(&u, i_loadu(buf + i), 1) : uniform_f32(&u, i_loadu(buf + i), 0));
}

enum { PHASE_NORMAL, PHASE_TRUNC2, PHASE_TRUNC3 };
T static void run_two_phase_f32(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, float *o,
                                int transform)
{
    uint32_t buf[WB * 64];
    for (size_t g = 0; g < groups; g += WB) {
        size_t nb = groups - g < WB ? groups - g : WB;
        if (transform == PHASE_NORMAL)
            philox_words_f32(pk, block0 + 16 * g, nb, buf);
        else
            philox_elems_f32(pk, block0 + 16 * g, nb, buf);
        if (transform == PHASE_NORMAL)
            normal_words_f32(d, buf, nb, o + 64 * g);
        else if (transform == PHASE_TRUNC2)
            trunc2_words_f32(d, buf, nb, o + 64 * g);
        else
            trunc3_words_f32(d, buf, nb, o + 64 * g);
    }
}

NOINL void run_uniform_f64(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, double *o)
{
    run_f64(d, pk, block0, groups, o, NNINIT__DIST_UNIFORM);
}

NOINL void run_normal_f64(const nninit__dist *d, const pkeys *pk, uint64_t block0, size_t groups, double *o)
{
    run_f64(d, pk, block0, groups, o, NNINIT__DIST_NORMAL);
}

/* The xor of words [64 g0, 64 (g0 + groups)) of d's stream: the Philox
 * rounds of the fills alone, nothing stored (bench_kernels' bound). Only
 * the low half of each lane is a word (join64), and xor keeps halves apart. */
T uint32_t KERNEL_PHILOX_XOR(const nninit__dist *d, uint64_t g0, size_t groups)
{
    pkeys pk;
    philox_init(&pk, d);
    vi S[PG * NSET][4], acc = i64_set(0);
    for (size_t g = 0; g < groups; g += PG) {
        int whole = groups - g >= PG; /* else the last group alone */
        if (whole)
            philox_sets(&pk, 16 * (g0 + g), S, PG * NSET);
        else
            philox16(&pk, 16 * (g0 + g), S);
#pragma GCC unroll 16
        for (int s = 0; s < PG * NSET; s++) {
            if (s >= NSET && !whole)
                break;
            acc = xor3(acc, xor3(S[s][0], S[s][1], S[s][2]), S[s][3]);
        }
    }
    uint64_t lanes[VD_N];
    i_storeu((uint32_t *)lanes, acc);
    uint32_t x = 0;
    for (int i = 0; i < VD_N; i++)
        x ^= (uint32_t)lanes[i];
    return x;
}

/* d's float32 transform of given words (word i -> element i, as the fill
 * of words [0, n) would read them), n a multiple of 64: the transform
 * alone (bench_kernels) and on chosen words (test_simd). */
T void KERNEL_WORDS_F32(const nninit__dist *d, const uint32_t *w, size_t n, float *out)
{
    if (d->kind != NNINIT__DIST_NORMAL) { /* elementwise: words in element order */
        if (d->kind == NNINIT__DIST_UNIFORM)
            uniform_words_f32(d, w, n / 64, out);
        else if (d->trunc3)
            trunc3_words_f32(d, w, n / 64, out);
        else
            trunc2_words_f32(d, w, n / 64, out);
        return;
    }
    uint32_t buf[WB * 64];
    for (size_t g = 0; g < n / 64; g += WB) {
        size_t nb = n / 64 - g < WB ? n / 64 - g : WB;
        /* into the normal's buffer order (philox_words_f32): vector
         * 4v + k of a group holds word k of the blocks of float vector v */
        for (size_t b = 0; b < nb; b++)
            for (int v = 0; v < NVF; v++) {
                vi R[4];
                load_u32x4(w + 64 * (g + b) + 4 * VF_N * v, R);
                for (int k = 0; k < 4; k++)
                    i_storeu(buf + 64 * b + VF_N * (4 * v + k), R[k]);
            }
        normal_words_f32(d, buf, nb, out + 64 * g);
    }
}

T void KERNEL_RUN(const nninit__dist *d, uint64_t begin, size_t n, void *out)
{
    pkeys pk;
    philox_init(&pk, d);
    if (d->dtype == NNINIT_F32) {
        uint64_t block0 = begin / 4;
        size_t groups = n / 64;
        if (d->kind == NNINIT__DIST_UNIFORM && d->fold_f)
            run_uniform_fold_f32(d, &pk, block0, groups, out);
        else if (d->kind == NNINIT__DIST_UNIFORM)
            run_uniform_f32(d, &pk, block0, groups, out);
        else if (d->kind == NNINIT__DIST_NORMAL)
            run_two_phase_f32(d, &pk, block0, groups, out, PHASE_NORMAL);
        else if (d->trunc3)
            run_two_phase_f32(d, &pk, block0, groups, out, PHASE_TRUNC3);
        else if (d->trunc2)
            run_two_phase_f32(d, &pk, block0, groups, out, PHASE_TRUNC2);
        else
            run_trunc_f32(d, &pk, block0, groups, out);
    } else {
        uint64_t block0 = begin / 2;
        size_t groups = n / 32;
        if (d->kind == NNINIT__DIST_UNIFORM)
            run_uniform_f64(d, &pk, block0, groups, out);
        else if (d->kind == NNINIT__DIST_NORMAL)
            run_normal_f64(d, &pk, block0, groups, out);
        else
            run_trunc_f64(d, &pk, block0, groups, out);
    }
}
