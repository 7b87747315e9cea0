# cython: language_level=3
"""Compiled single-hidden-layer network landscape (SPEC 2.2).

Model, for one data item ``x`` (dimension ``n_in``)::

    a_j = b^h_j + sum_k W2_jk x_k,   z_j = act(a_j),   y_i = b^o_i + sum_j W1_ij z_j

with ``act = tanh`` (default) or the identity (``activation="linear"``).  Cost over
``N = n_data`` items::

    loss = "xent":  E = -(1/N) sum_d ln softmax(y^d)_{c(d)}   + lam * sum_{w in R} w^2
    loss = "mse":   E =  (1/N) sum_d sum_i (y^d_i - t^d_i)^2   + lam * sum_{w in R} w^2

(squared errors summed over outputs, averaged over items).  ``R`` holds every weight, or every
weight but the biases when ``reg_biases=False``.  The log-softmax subtracts the largest output
before exponentiating, so it neither overflows nor underflows to ``log 0``.

Flat parameter layout, ``ndim = H*I + H + O*H + O`` (I = n_in, H = n_hidden, O = n_out)::

    [ W2 (H, I) row-major | b^h (H) | W1 (O, H) row-major | b^o (O) ]

Two code paths compute the energy, gradient and Hessian-vector product:

* ``"fused"``: one pass over the data that does the forward and backward pass (and the
  R-operator pass) of a block of 64 items while it sits in L1 cache, with the item index
  innermost so that every loop vectorises (gradient sums are kept per lane and reduced at the
  end; tanh and exp are branch-free inline routines accurate to a few ulp).  The core is
  plain C embedded below, compiled for AVX2 and for the baseline and picked at load time
  (gcc on x86-64 Linux; elsewhere the baseline only).  Neither variant uses FMA or
  reassociates, so results do not depend on the machine.  Best for small layers (a few
  hidden nodes, thousands of items); it keeps transposed copies of the inputs and targets.
* ``"blas"``: matrix products through scipy's ``cython_blas.dgemm`` (nogil) on blocks of 64
  items, so that each block of inputs is read from memory once for the forward and the
  backward product (about 1.5-2x faster than whole-batch products for 784-10-10 on 1000
  images): best for wide inputs (MNIST, 784 pixels).

``path="auto"`` picks ``"blas"`` when ``n_in * n_hidden >= 1024`` (the measured crossover
lies between about 1000 and 2500).  The dense Hessian (exact, analytic, symmetric to the last
bit) always uses the batched formulation with ``dgemm`` for its big blocks (7960 parameters:
about 6 s and 0.5 GB); the Hessian-vector product is Pearlmutter's R-operator and never forms
the Hessian.

Every method allocates its own scratch (malloc/free per call); the instance holds only
read-only copies of the data, so one instance may serve several threads.  A failed
allocation returns NaN (energy) or fills the output with NaN.
"""
import numpy as np
cimport numpy as cnp
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memset
from libc.math cimport exp, log, NAN
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport dgemm

from kernels.base cimport CompiledLandscape

cnp.import_array()

#: ``path="auto"`` uses BLAS when ``n_in * n_hidden`` reaches this.
BLAS_THRESHOLD = 1024


cdef inline void _gemm(char ta, char tb, int m, int n, int k, double alpha, const double* a,
                       int lda, const double* b, int ldb, double beta, double* c,
                       int ldc) noexcept nogil:
    """Column-major ``C = alpha op(A) op(B) + beta C`` (thin wrapper over dgemm)."""
    dgemm(&ta, &tb, &m, &n, &k, &alpha, <double*> a, &lda, <double*> b, &ldb, &beta, c, &ldc)


# ---------------------------------------------------------------------- branch-free exp, tanh
# Plain C without calls or floating-point comparisons, so that gcc vectorises the loops that use
# them (with the default -ftrapping-math gcc will not if-convert a floating-point compare; the
# range clamp therefore compares the high 32 bits of |x| as an integer).  For x <= 0 only:
# argument reduction x = n ln2 + r (|r| <= ln2 / 2, fdlibm's Cody-Waite split of ln2),
# expm1(r) by its Taylor series to r^13 (truncation < 5e-18), 2^n assembled from the bits of
# the rounding constant.  Accuracy: a few ulp.  x < -708 is treated as -708 (exp ~ 3e-308,
# harmless for softmax terms; tanh is then +-1 to the last bit), NaN stays NaN.  nn_tanh is
# accurate near 0 as well (it uses expm1, not exp).
cdef extern from *:
    """
    #include <stdint.h>
    #include <stdlib.h>
    #include <string.h>
    #include <math.h>
    #define NN_BLOCK 64                              /* items per block of the fused path */
    #define NN_BLAS_ROWS 64                         /* items per block of the BLAS path */
    static inline double nn_expm1_nonpos_parts(double x, double *scale) {
        const double round_c = 6755399441055744.0;   /* 1.5 * 2^52: adding it rounds */
        const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
        double t, n, r, q, ax = fabs(x);
        uint64_t bits, mask;
        int32_t hi;
        memcpy(&bits, &ax, 8);                        /* clamp |x| in (708, inf] to 708 by */
        hi = (int32_t)(bits >> 32);                   /* an integer compare; NaN propagates */
        mask = -(uint64_t)((hi > 0x40862000) & (hi <= 0x7ff00000));
        bits = (bits & ~mask) | (0x4086200000000000ULL & mask);
        memcpy(&ax, &bits, 8);
        x = -ax;
        t = x * 1.4426950408889634 + round_c;
        n = t - round_c;
        r = (x - n * ln2_hi) - n * ln2_lo;
        q = 1.0 / 6227020800.0;
        q = q * r + 1.0 / 479001600.0;
        q = q * r + 1.0 / 39916800.0;
        q = q * r + 1.0 / 3628800.0;
        q = q * r + 1.0 / 362880.0;
        q = q * r + 1.0 / 40320.0;
        q = q * r + 1.0 / 5040.0;
        q = q * r + 1.0 / 720.0;
        q = q * r + 1.0 / 120.0;
        q = q * r + 1.0 / 24.0;
        q = q * r + 1.0 / 6.0;
        q = q * r + 0.5;
        q = q * r + 1.0;
        q = q * r;                                   /* expm1(r) */
        memcpy(&bits, &t, 8);
        bits = (bits + 1023) << 52;                  /* 2^n: the low bits of t hold n */
        memcpy(scale, &bits, 8);
        return q;
    }
    static inline double nn_exp_nonpos(double x) {   /* exp(x) for x <= 0 */
        double s, q = nn_expm1_nonpos_parts(x, &s);
        return s + s * q;
    }
    static inline double nn_tanh(double a) {
        /* tanh|a| = -expm1(-2|a|) / (2 + expm1(-2|a|)), sign of a restored */
        double s, q = nn_expm1_nonpos_parts(-2.0 * fabs(a), &s);
        double em = s * q + (s - 1.0);
        return copysign(-em / (2.0 + em), a);
    }
    static inline double nn_max(double a, double b) { return a > b ? a : b; }
    /* The blocked energy-gradient core of the fused path.  Compiled twice on x86-64 Linux
       with gcc (AVX2 and baseline, chosen at load time); neither clone uses FMA or
       reassociates, so both give bit-identical results. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define NN_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define NN_CLONES
    #endif
    typedef struct {
        int n_in, n_hidden, n_out, n_data, linear, mse;
        long o_bh, o_w1, o_bo, ndim;
        const double *xt;        /* inputs, (n_in, n_data) */
        const double *tt;        /* targets, (n_out, n_data), mse */
        const int64_t *lab;      /* labels, (n_data,), xent */
    } nn_net;

    /* Data term of E summed over items (not divided by N).  If grad is not NULL it receives
       the gradient of that sum.  Items go in blocks of NN_BLOCK with the item index innermost
       so that every loop vectorises; gradient sums are kept per lane (one partial sum per
       position in the block) and reduced at the end, so no inner loop is a floating-point
       reduction.  The log-sum-exp costs one log per block (the log of the product of the
       softmax normalisers, each in [1, n_out]); for n_out > 1000 one log per item.
       Returns NAN if memory runs out. */
    NN_CLONES static double nn_blocked_energy_gradient(const nn_net *net, const double *w,
                                                       double *grad) {
        const int nI = net->n_in, nH = net->n_hidden, nO = net->n_out, nN = net->n_data;  /* I is a macro of complex.h */
        const int B = NN_BLOCK, want = grad != NULL, per_item_log = nO > 1000;
        const long nd = net->ndim;
        const double *w2 = w, *bh = w + net->o_bh, *w1 = w + net->o_w1, *bo = w + net->o_bo;
        double total = 0.0, log_total = 0.0;
        double *buf = (double *) malloc(sizeof(double) * (size_t) (2 * nH + nO + 3) * B);
        double *lanes = (double *) calloc((size_t) (want ? nd + 1 : 1) * B, sizeof(double));
        if (buf == NULL || lanes == NULL) {
            free(buf); free(lanes);
            return NAN;
        }
        double *za = buf, *dza = buf + (long) nH * B, *ya = buf + 2L * nH * B;
        double *mx = ya + (long) nO * B, *ss = mx + B, *yc = ss + B;
        double *lsum = lanes, *acc = lanes + B;      /* acc: (ndim, B) in layout order */
        for (int d0 = 0; d0 < nN; d0 += B) {
            const int nb = nN - d0 < B ? nN - d0 : B;
            /* hidden layer: a = bh + W2 x ; z = act(a) ; dz = act'(a) */
            for (int j = 0; j < nH; j++) {
                double *restrict zr = za + (long) j * B, *restrict dr = dza + (long) j * B;
                for (int b = 0; b < nb; b++) zr[b] = bh[j];
                for (int k = 0; k < nI; k++) {
                    const double wk = w2[(long) j * nI + k];
                    const double *restrict xr = net->xt + (long) k * nN + d0;
                    for (int b = 0; b < nb; b++) zr[b] += wk * xr[b];
                }
                if (net->linear) {
                    for (int b = 0; b < nb; b++) dr[b] = 1.0;
                } else {
                    for (int b = 0; b < nb; b++) {
                        const double t = nn_tanh(zr[b]);
                        zr[b] = t;
                        dr[b] = 1.0 - t * t;
                    }
                }
            }
            /* outputs: y = bo + W1 z */
            for (int i = 0; i < nO; i++) {
                double *restrict yr = ya + (long) i * B;
                for (int b = 0; b < nb; b++) yr[b] = bo[i];
                for (int j = 0; j < nH; j++) {
                    const double wij = w1[(long) i * nH + j];
                    const double *restrict zr = za + (long) j * B;
                    for (int b = 0; b < nb; b++) yr[b] += wij * zr[b];
                }
            }
            /* loss, and dloss/dy in place of y */
            if (net->mse) {
                for (int i = 0; i < nO; i++) {
                    double *restrict yr = ya + (long) i * B;
                    const double *restrict tr = net->tt + (long) i * nN + d0;
                    for (int b = 0; b < nb; b++) {
                        const double r = yr[b] - tr[b];
                        lsum[b] += r * r;
                        yr[b] = 2.0 * r;
                    }
                }
            } else {
                for (int b = 0; b < nb; b++) {
                    yc[b] = ya[net->lab[d0 + b] * B + b];
                    mx[b] = ya[b];
                    ss[b] = 0.0;
                }
                for (int i = 1; i < nO; i++)
                    for (int b = 0; b < nb; b++) mx[b] = nn_max(ya[(long) i * B + b], mx[b]);
                for (int i = 0; i < nO; i++) {
                    double *restrict yr = ya + (long) i * B;
                    for (int b = 0; b < nb; b++) {
                        const double e = nn_exp_nonpos(yr[b] - mx[b]);
                        yr[b] = e;
                        ss[b] += e;
                    }
                }
                for (int b = 0; b < nb; b++) lsum[b] += mx[b] - yc[b];
                if (per_item_log) {
                    for (int b = 0; b < nb; b++) log_total += log(ss[b]);
                } else {
                    double prod = 1.0;
                    for (int b = 0; b < nb; b++) prod *= ss[b];
                    log_total += log(prod);
                }
                if (want) {
                    for (int b = 0; b < nb; b++) ss[b] = 1.0 / ss[b];
                    for (int i = 0; i < nO; i++)
                        for (int b = 0; b < nb; b++) ya[(long) i * B + b] *= ss[b];
                    for (int b = 0; b < nb; b++) ya[net->lab[d0 + b] * B + b] -= 1.0;
                }
            }
            if (!want) continue;
            /* output layer, per lane: gbo_i += e_i ; gW1_ij += e_i z_j */
            for (int i = 0; i < nO; i++) {
                const double *restrict er = ya + (long) i * B;
                double *restrict ab = acc + (net->o_bo + i) * B;
                for (int b = 0; b < nb; b++) ab[b] += er[b];
                for (int j = 0; j < nH; j++) {
                    const double *restrict zr = za + (long) j * B;
                    double *restrict aw = acc + (net->o_w1 + (long) i * nH + j) * B;
                    for (int b = 0; b < nb; b++) aw[b] += er[b] * zr[b];
                }
            }
            /* hidden layer: delta_j = dz_j sum_i W1_ij e_i ; gbh_j += delta_j ; gW2_jk += delta_j x_k */
            for (int j = 0; j < nH; j++) {
                double *restrict sr = za + (long) j * B;        /* z no longer needed */
                double *restrict dr = dza + (long) j * B;
                for (int b = 0; b < nb; b++) sr[b] = 0.0;
                for (int i = 0; i < nO; i++) {
                    const double wij = w1[(long) i * nH + j];
                    const double *restrict er = ya + (long) i * B;
                    for (int b = 0; b < nb; b++) sr[b] += wij * er[b];
                }
                for (int b = 0; b < nb; b++) dr[b] *= sr[b];
                double *restrict ab = acc + (net->o_bh + j) * B;
                for (int b = 0; b < nb; b++) ab[b] += dr[b];
                for (int k = 0; k < nI; k++) {
                    const double *restrict xr = net->xt + (long) k * nN + d0;
                    double *restrict aw = acc + ((long) j * nI + k) * B;
                    for (int b = 0; b < nb; b++) aw[b] += dr[b] * xr[b];
                }
            }
        }
        for (int b = 0; b < B; b++) total += lsum[b];
        total += log_total;
        if (want) {
            for (long p = 0; p < nd; p++) {
                double s = 0.0;
                for (int b = 0; b < B; b++) s += acc[p * B + b];
                grad[p] = s;
            }
        }
        free(buf);
        free(lanes);
        return total;
    }

    /* Hessian-vector product of the data term summed over items (not divided by N), by the
       R-operator, blocked and per lane like nn_blocked_energy_gradient.  out (ndim) is
       overwritten.  Returns 0, or -1 if memory runs out. */
    NN_CLONES static int nn_blocked_hessian_vector(const nn_net *net, const double *w,
                                                   const double *v, double *out) {
        const int nI = net->n_in, nH = net->n_hidden, nO = net->n_out, nN = net->n_data;
        const int B = NN_BLOCK;
        const long nd = net->ndim;
        const double *w2 = w, *bh = w + net->o_bh, *w1 = w + net->o_w1, *bo = w + net->o_bo;
        const double *v2 = v, *vbh = v + net->o_bh, *v1 = v + net->o_w1, *vbo = v + net->o_bo;
        double *buf = (double *) malloc(sizeof(double) * (size_t) (5 * nH + 3 * nO + 2) * B);
        double *acc = (double *) calloc((size_t) nd * B, sizeof(double));
        if (buf == NULL || acc == NULL) {
            free(buf); free(acc);
            return -1;
        }
        double *za = buf, *dza = za + (long) nH * B, *d2a = dza + (long) nH * B;
        double *raa = d2a + (long) nH * B, *rza = raa + (long) nH * B;
        double *ya = rza + (long) nH * B, *pa = ya + (long) nO * B, *rya = pa + (long) nO * B;
        double *mx = rya + (long) nO * B, *ss = mx + B;
        for (int d0 = 0; d0 < nN; d0 += B) {
            const int nb = nN - d0 < B ? nN - d0 : B;
            /* hidden layer and its R-forward: a, z, dz, d2 ; R{a} = vbh + V2 x ; R{z} = dz R{a} */
            for (int j = 0; j < nH; j++) {
                double *restrict zr = za + (long) j * B, *restrict rar = raa + (long) j * B;
                double *restrict dr = dza + (long) j * B, *restrict d2r = d2a + (long) j * B;
                double *restrict rzr = rza + (long) j * B;
                for (int b = 0; b < nb; b++) { zr[b] = bh[j]; rar[b] = vbh[j]; }
                for (int k = 0; k < nI; k++) {
                    const double wk = w2[(long) j * nI + k], vk = v2[(long) j * nI + k];
                    const double *restrict xr = net->xt + (long) k * nN + d0;
                    for (int b = 0; b < nb; b++) {
                        zr[b] += wk * xr[b];
                        rar[b] += vk * xr[b];
                    }
                }
                if (net->linear) {
                    for (int b = 0; b < nb; b++) { dr[b] = 1.0; d2r[b] = 0.0; rzr[b] = rar[b]; }
                } else {
                    for (int b = 0; b < nb; b++) {
                        const double t = nn_tanh(zr[b]), g = 1.0 - t * t;
                        zr[b] = t;
                        dr[b] = g;
                        d2r[b] = -2.0 * t * g;
                        rzr[b] = g * rar[b];
                    }
                }
            }
            /* outputs: y = bo + W1 z ; R{y} = vbo + V1 z + W1 R{z} */
            for (int i = 0; i < nO; i++) {
                double *restrict yr = ya + (long) i * B, *restrict ryr = rya + (long) i * B;
                for (int b = 0; b < nb; b++) { yr[b] = bo[i]; ryr[b] = vbo[i]; }
                for (int j = 0; j < nH; j++) {
                    const double wij = w1[(long) i * nH + j], vij = v1[(long) i * nH + j];
                    const double *restrict zr = za + (long) j * B, *restrict rzr = rza + (long) j * B;
                    for (int b = 0; b < nb; b++) {
                        yr[b] += wij * zr[b];
                        ryr[b] += vij * zr[b] + wij * rzr[b];
                    }
                }
            }
            /* e = dloss/dy in ya, R{e} in rya */
            if (net->mse) {
                for (int i = 0; i < nO; i++) {
                    double *restrict yr = ya + (long) i * B, *restrict ryr = rya + (long) i * B;
                    const double *restrict tr = net->tt + (long) i * nN + d0;
                    for (int b = 0; b < nb; b++) {
                        yr[b] = 2.0 * (yr[b] - tr[b]);
                        ryr[b] = 2.0 * ryr[b];
                    }
                }
            } else {
                for (int b = 0; b < nb; b++) { mx[b] = ya[b]; ss[b] = 0.0; }
                for (int i = 1; i < nO; i++)
                    for (int b = 0; b < nb; b++) mx[b] = nn_max(ya[(long) i * B + b], mx[b]);
                for (int i = 0; i < nO; i++) {
                    double *restrict yr = ya + (long) i * B;
                    for (int b = 0; b < nb; b++) {
                        const double e = nn_exp_nonpos(yr[b] - mx[b]);
                        yr[b] = e;
                        ss[b] += e;
                    }
                }
                for (int b = 0; b < nb; b++) { ss[b] = 1.0 / ss[b]; mx[b] = 0.0; }
                for (int i = 0; i < nO; i++) {          /* p in ya ; mx <- sum_i p_i R{y_i} */
                    double *restrict yr = ya + (long) i * B;
                    const double *restrict ryr = rya + (long) i * B;
                    for (int b = 0; b < nb; b++) {
                        yr[b] *= ss[b];
                        mx[b] += yr[b] * ryr[b];
                    }
                }
                for (int i = 0; i < nO; i++) {          /* R{e} = p (R{y} - sum p R{y}) */
                    const double *restrict yr = ya + (long) i * B;
                    double *restrict ryr = rya + (long) i * B;
                    for (int b = 0; b < nb; b++) ryr[b] = yr[b] * (ryr[b] - mx[b]);
                }
                for (int b = 0; b < nb; b++) ya[net->lab[d0 + b] * B + b] -= 1.0;   /* e = p - onehot */
            }
            /* output layer: R{gbo} += R{e} ; R{gW1_ij} += R{e_i} z_j + e_i R{z_j} */
            for (int i = 0; i < nO; i++) {
                const double *restrict er = ya + (long) i * B, *restrict rer = rya + (long) i * B;
                double *restrict ab = acc + (net->o_bo + i) * B;
                for (int b = 0; b < nb; b++) ab[b] += rer[b];
                for (int j = 0; j < nH; j++) {
                    const double *restrict zr = za + (long) j * B, *restrict rzr = rza + (long) j * B;
                    double *restrict aw = acc + (net->o_w1 + (long) i * nH + j) * B;
                    for (int b = 0; b < nb; b++) aw[b] += rer[b] * zr[b] + er[b] * rzr[b];
                }
            }
            /* hidden layer: R{delta_j} = d2_j R{a_j} s_j + dz_j t_j with s_j = sum_i W1_ij e_i,
               t_j = sum_i (V1_ij e_i + W1_ij R{e_i}) ; R{gbh_j} += R{delta_j} ;
               R{gW2_jk} += R{delta_j} x_k */
            for (int j = 0; j < nH; j++) {
                double *restrict sr = za + (long) j * B;        /* z, R{z} no longer needed */
                double *restrict tr = rza + (long) j * B;
                const double *restrict dr = dza + (long) j * B, *restrict d2r = d2a + (long) j * B;
                double *restrict rar = raa + (long) j * B;
                for (int b = 0; b < nb; b++) { sr[b] = 0.0; tr[b] = 0.0; }
                for (int i = 0; i < nO; i++) {
                    const double wij = w1[(long) i * nH + j], vij = v1[(long) i * nH + j];
                    const double *restrict er = ya + (long) i * B, *restrict rer = rya + (long) i * B;
                    for (int b = 0; b < nb; b++) {
                        sr[b] += wij * er[b];
                        tr[b] += vij * er[b] + wij * rer[b];
                    }
                }
                for (int b = 0; b < nb; b++) rar[b] = d2r[b] * rar[b] * sr[b] + dr[b] * tr[b];
                double *restrict ab = acc + (net->o_bh + j) * B;
                for (int b = 0; b < nb; b++) ab[b] += rar[b];
                for (int k = 0; k < nI; k++) {
                    const double *restrict xr = net->xt + (long) k * nN + d0;
                    double *restrict aw = acc + ((long) j * nI + k) * B;
                    for (int b = 0; b < nb; b++) aw[b] += rar[b] * xr[b];
                }
            }
        }
        for (long p = 0; p < nd; p++) {
            double s = 0.0;
            for (int b = 0; b < B; b++) s += acc[p * B + b];
            out[p] = s;
        }
        free(buf);
        free(acc);
        return 0;
    }
    """
    int _BLOCK "NN_BLOCK"
    int _BLAS_ROWS "NN_BLAS_ROWS"
    double _fast_exp_nonpos "nn_exp_nonpos"(double x) noexcept nogil
    double _fast_tanh "nn_tanh"(double a) noexcept nogil
    double _max "nn_max"(double a, double b) noexcept nogil
    ctypedef struct nn_net:
        int n_in, n_hidden, n_out, n_data, linear, mse
        long o_bh, o_w1, o_bo, ndim
        const double* xt
        const double* tt
        const int64_t* lab
    double _blocked_energy_gradient "nn_blocked_energy_gradient"(
        const nn_net* net, const double* w, double* grad) noexcept nogil
    int _blocked_hessian_vector "nn_blocked_hessian_vector"(
        const nn_net* net, const double* w, const double* v, double* out) noexcept nogil


cdef class NNKernel(CompiledLandscape):
    """Energy, gradient, Hessian and Hessian-vector product of a one-hidden-layer network.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Layer sizes I, H, O.
    x : array_like, shape (n_data, n_in)
        Inputs (copied, float64, C-contiguous).
    labels : array_like of int, shape (n_data,), optional
        Class labels in ``[0, n_out)``; required when ``loss="xent"``.
    targets : array_like, shape (n_data, n_out), optional
        Real-valued targets; required when ``loss="mse"``.
    lam : float
        L2 coefficient lambda (>= 0).
    reg_biases : bool
        Include the biases in the L2 term (default) or not.
    activation : {"tanh", "linear"}
    loss : {"xent", "mse"}
    path : {"auto", "fused", "blas"}
        Code path of the energy, gradient and Hessian-vector product (see module docstring).
    """

    cdef readonly int n_in, n_hidden, n_out, n_data
    cdef readonly double lam
    cdef readonly bint reg_biases
    cdef readonly str activation, loss, path
    cdef bint _linear, _mse, _blas
    cdef Py_ssize_t _o_bh, _o_w1, _o_bo
    cdef object _x_arr, _lab_arr, _t_arr, _xt_arr, _tt_arr
    cdef const double* _xt      # inputs transposed, (n_in, n_data): fused path
    cdef const double* _tt      # targets transposed, (n_out, n_data): fused path, mse
    cdef const double* _x
    cdef const int64_t* _lab
    cdef const double* _t

    def __init__(self, int n_in, int n_hidden, int n_out, x, labels=None, targets=None,
                 double lam=0.0, bint reg_biases=True, str activation="tanh", str loss="xent",
                 str path="auto"):
        if n_in < 1 or n_hidden < 1 or n_out < 1:
            raise ValueError("n_in, n_hidden and n_out must be >= 1")
        if activation not in ("tanh", "linear"):
            raise ValueError(f"activation must be 'tanh' or 'linear', got {activation!r}")
        if loss not in ("xent", "mse"):
            raise ValueError(f"loss must be 'xent' or 'mse', got {loss!r}")
        if path not in ("auto", "fused", "blas"):
            raise ValueError(f"path must be 'auto', 'fused' or 'blas', got {path!r}")
        if not lam >= 0.0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        xa = np.array(x, dtype=np.float64, order="C", copy=True)
        if xa.ndim != 2 or xa.shape[1] != n_in or xa.shape[0] < 1:
            raise ValueError(f"x must have shape (n_data >= 1, {n_in}), got {xa.shape}")
        self.n_in, self.n_hidden, self.n_out = n_in, n_hidden, n_out
        self.n_data = xa.shape[0]
        self.lam = lam
        self.reg_biases = reg_biases
        self.activation, self.loss = activation, loss
        self._linear = activation == "linear"
        self._mse = loss == "mse"
        if path == "auto":
            path = "blas" if n_in * n_hidden >= BLAS_THRESHOLD else "fused"
        self.path = path
        self._blas = path == "blas"
        self._x_arr = xa
        self._x = <const double*> cnp.PyArray_DATA(xa)
        self._lab = NULL
        self._t = NULL
        if self._mse:
            if targets is None:
                raise ValueError("loss='mse' needs targets of shape (n_data, n_out)")
            ta = np.array(targets, dtype=np.float64, order="C", copy=True)
            if ta.ndim == 1 and n_out == 1:
                ta = ta.reshape(-1, 1)
            if ta.shape != (self.n_data, n_out):
                raise ValueError(f"targets must have shape ({self.n_data}, {n_out}), got {ta.shape}")
            self._t_arr = ta
            self._t = <const double*> cnp.PyArray_DATA(ta)
        else:
            if labels is None:
                raise ValueError("loss='xent' needs integer labels of shape (n_data,)")
            la = np.asarray(labels)
            if la.ndim != 1 or la.shape[0] != self.n_data:
                raise ValueError(f"labels must have shape ({self.n_data},), got {la.shape}")
            if la.dtype.kind not in "iu" and not np.all(la == np.round(la)):
                raise ValueError("labels must be integers")
            la = np.array(la, dtype=np.int64, order="C", copy=True)
            if la.min() < 0 or la.max() >= n_out:
                raise ValueError(f"labels must lie in [0, {n_out}), got [{la.min()}, {la.max()}]")
            self._lab_arr = la
            self._lab = <const int64_t*> cnp.PyArray_DATA(la)
        self._o_bh = <Py_ssize_t> n_hidden * n_in
        self._o_w1 = self._o_bh + n_hidden
        self._o_bo = self._o_w1 + <Py_ssize_t> n_out * n_hidden
        self._xt = NULL
        self._tt = NULL
        if not self._blas:
            # item-index-innermost copies for the blocked (vectorisable) fused loops
            self._xt_arr = np.ascontiguousarray(xa.T)
            self._xt = <const double*> cnp.PyArray_DATA(self._xt_arr)
            if self._mse:
                self._tt_arr = np.ascontiguousarray(self._t_arr.T)
                self._tt = <const double*> cnp.PyArray_DATA(self._tt_arr)
        self.ndim = self._o_bo + n_out

    # ------------------------------------------------------------------ read-only data
    @property
    def x(self):
        """The kernel's copy of the inputs, shape (n_data, n_in) (read-only view)."""
        v = self._x_arr.view()
        v.flags.writeable = False
        return v

    @property
    def labels(self):
        """The class labels (xent) or None."""
        if self._lab_arr is None:
            return None
        v = self._lab_arr.view()
        v.flags.writeable = False
        return v

    @property
    def targets(self):
        """The targets (mse) or None."""
        if self._t_arr is None:
            return None
        v = self._t_arr.view()
        v.flags.writeable = False
        return v

    def __reduce__(self):
        return (_rebuild, (self.n_in, self.n_hidden, self.n_out, self._x_arr, self._lab_arr,
                           self._t_arr, self.lam, self.reg_biases, self.activation, self.loss,
                           self.path))

    # ------------------------------------------------------------------ regulariser
    cdef inline bint _in_reg(self, Py_ssize_t p) noexcept nogil:
        if self.reg_biases:
            return True
        return not ((self._o_bh <= p < self._o_w1) or p >= self._o_bo)

    cdef double _add_reg(self, const double* w, double* grad) noexcept nogil:
        """Return lam * sum_R w^2 and add 2 lam w (on R) to ``grad`` unless it is NULL."""
        cdef Py_ssize_t p
        cdef double s = 0.0, two_lam = 2.0 * self.lam
        if self.lam == 0.0:
            return 0.0
        for p in range(self.ndim):
            if self._in_reg(p):
                s += w[p] * w[p]
                if grad != NULL:
                    grad[p] += two_lam * w[p]
        return self.lam * s

    # ------------------------------------------------------------------ per-item loss
    cdef inline double _item_loss(self, Py_ssize_t d, const double* y, double* e,
                                  double* p) noexcept nogil:
        """Loss of item d from its outputs y; e = dloss/dy (unscaled); p = softmax (xent).

        ``e`` and ``p`` may be NULL when not wanted.
        """
        cdef int i, O = self.n_out
        cdef double m, ssum, lse, r, yc, loss = 0.0
        cdef Py_ssize_t c
        if self._mse:
            for i in range(O):
                r = y[i] - self._t[d * O + i]
                loss += r * r
                if e != NULL:
                    e[i] = 2.0 * r
            return loss
        c = self._lab[d]
        yc = y[c]          # y may alias e or p: read it first
        m = y[0]
        for i in range(1, O):
            if y[i] > m:
                m = y[i]
        ssum = 0.0
        if e == NULL and p == NULL:
            for i in range(O):
                ssum += exp(y[i] - m)
            return m + log(ssum) - yc
        if p == NULL:
            p = e
        for i in range(O):
            p[i] = exp(y[i] - m)
            ssum += p[i]
        lse = m + log(ssum)
        ssum = 1.0 / ssum
        for i in range(O):
            p[i] *= ssum
        if e != NULL:
            for i in range(O):
                e[i] = p[i]
            e[c] -= 1.0
        return lse - yc

    # ------------------------------------------------------------------ fused path
    cdef void _fill_net(self, nn_net* net) noexcept nogil:
        """The read-only description of the network and data that the C cores take."""
        net.n_in, net.n_hidden, net.n_out, net.n_data = (self.n_in, self.n_hidden, self.n_out,
                                                         self.n_data)
        net.linear = self._linear
        net.mse = self._mse
        net.o_bh, net.o_w1, net.o_bo, net.ndim = self._o_bh, self._o_w1, self._o_bo, self.ndim
        net.xt = self._xt
        net.tt = self._tt
        net.lab = self._lab

    cdef double _eg_blocked(self, const double* w, double* grad) noexcept nogil:
        """Fused path: the blocked, vectorised C core (``nn_blocked_energy_gradient``)."""
        cdef nn_net net
        cdef Py_ssize_t p
        cdef double inv_n = 1.0 / self.n_data, total
        self._fill_net(&net)
        total = _blocked_energy_gradient(&net, w, grad)
        if grad != NULL:
            for p in range(self.ndim):
                grad[p] *= inv_n
        return total * inv_n + self._add_reg(w, grad)

    cdef void _hv_blocked(self, const double* w, const double* v, double* out) noexcept nogil:
        """Fused path: the blocked R-operator C core (``nn_blocked_hessian_vector``)."""
        cdef nn_net net
        cdef Py_ssize_t p
        cdef double inv_n = 1.0 / self.n_data, two_lam = 2.0 * self.lam
        self._fill_net(&net)
        if _blocked_hessian_vector(&net, w, v, out) != 0:
            for p in range(self.ndim):
                out[p] = NAN
            return
        for p in range(self.ndim):
            out[p] *= inv_n
            if self._in_reg(p):
                out[p] += two_lam * v[p]

    # ------------------------------------------------------------------ BLAS path
    cdef double _forward_blas(self, const double* w, int d0, int nb, double* z, double* dz,
                              double* d2, double* e, double* pr) noexcept nogil:
        """Batched forward pass over items ``d0 .. d0 + nb - 1``.

        Returns their data term of E, divided by N.  Fills z, dz (and d2 if not NULL), shape
        (nb, H); e = dE/dy (scaled by 1/N) and, if not NULL, the softmax pr, shape (nb, O).
        """
        cdef int I = self.n_in, H = self.n_hidden, O = self.n_out
        cdef Py_ssize_t d
        cdef int i, j
        cdef const double* bh = w + self._o_bh
        cdef const double* bo = w + self._o_bo
        cdef double zz, total = 0.0, inv_n = 1.0 / self.n_data
        cdef double* yd
        # A^T (H x nb, col-major) = W2 X^T
        _gemm(b'T', b'N', H, nb, I, 1.0, w, I, self._x + <Py_ssize_t> d0 * I, I, 0.0, z, H)
        for d in range(nb):
            for j in range(H):
                zz = z[d * H + j] + bh[j]
                if self._linear:
                    z[d * H + j] = zz
                    dz[d * H + j] = 1.0
                    if d2 != NULL:
                        d2[d * H + j] = 0.0
                else:
                    zz = _fast_tanh(zz)
                    z[d * H + j] = zz
                    dz[d * H + j] = 1.0 - zz * zz
                    if d2 != NULL:
                        d2[d * H + j] = -2.0 * zz * (1.0 - zz * zz)
        # Y^T (O x nb) = W1 Z^T
        _gemm(b'T', b'N', O, nb, H, 1.0, w + self._o_w1, H, z, H, 0.0, e, O)
        for d in range(nb):
            yd = e + d * O
            for i in range(O):
                yd[i] += bo[i]
            total += self._item_loss(d0 + d, yd, yd, NULL if pr == NULL else pr + d * O)
            for i in range(O):
                yd[i] *= inv_n
        return total * inv_n

    cdef double _eg_blas(self, const double* w, double* grad) noexcept nogil:
        """BLAS path: blocks of _BLAS_ROWS items, so each block of inputs is read from memory
        once for the forward and the backward product."""
        cdef int I = self.n_in, H = self.n_hidden, O = self.n_out, N = self.n_data
        cdef int RB = _BLAS_ROWS if N > _BLAS_ROWS else N
        cdef int d0, nb, i, j
        cdef Py_ssize_t d
        cdef double total = 0.0
        cdef double* buf = <double*> malloc((<Py_ssize_t> RB * (3 * H + O)) * sizeof(double))
        if buf == NULL:
            return NAN
        cdef double* z = buf
        cdef double* dz = buf + <Py_ssize_t> RB * H
        cdef double* s = buf + <Py_ssize_t> 2 * RB * H
        cdef double* e = buf + <Py_ssize_t> 3 * RB * H
        if grad != NULL:
            memset(grad, 0, self.ndim * sizeof(double))
        d0 = 0
        while d0 < N:
            nb = N - d0 if N - d0 < RB else RB
            total += self._forward_blas(w, d0, nb, z, dz, NULL, e, NULL)
            if grad != NULL:
                # gW1^T (H x O) += Z^T E
                _gemm(b'N', b'T', H, O, nb, 1.0, z, H, e, O, 1.0, grad + self._o_w1, H)
                for d in range(nb):
                    for i in range(O):
                        grad[self._o_bo + i] += e[d * O + i]
                # S^T (H x nb) = W1^T E^T, then delta = dz * S
                _gemm(b'N', b'N', H, nb, O, 1.0, w + self._o_w1, H, e, O, 0.0, s, H)
                for d in range(<Py_ssize_t> nb * H):
                    s[d] *= dz[d]
                # gW2^T (I x H) += X^T delta
                _gemm(b'N', b'T', I, H, nb, 1.0, self._x + <Py_ssize_t> d0 * I, I, s, H, 1.0,
                      grad, I)
                for d in range(nb):
                    for j in range(H):
                        grad[self._o_bh + j] += s[d * H + j]
            d0 += nb
        free(buf)
        return total + self._add_reg(w, grad)

    cdef void _hv_blas(self, const double* w, const double* v, double* out) noexcept nogil:
        """BLAS path of the R-operator, in blocks of _BLAS_ROWS items like ``_eg_blas``."""
        cdef int I = self.n_in, H = self.n_hidden, O = self.n_out, N = self.n_data
        cdef int RB = _BLAS_ROWS if N > _BLAS_ROWS else N
        cdef int d0, nb, i, j
        cdef Py_ssize_t d, p, NH = <Py_ssize_t> RB * H, NO = <Py_ssize_t> RB * O
        cdef double pry, inv_n = 1.0 / N, two_lam = 2.0 * self.lam
        cdef double* buf = <double*> malloc((6 * NH + 3 * NO) * sizeof(double))
        if buf == NULL:
            for p in range(self.ndim):
                out[p] = NAN
            return
        cdef double* z = buf
        cdef double* dz = buf + NH
        cdef double* d2 = buf + 2 * NH
        cdef double* ra = buf + 3 * NH
        cdef double* rz = buf + 4 * NH
        cdef double* t = buf + 5 * NH
        cdef double* e = buf + 6 * NH
        cdef double* pr = e + NO
        cdef double* ry = e + 2 * NO
        cdef const double* xb
        cdef const double* w1 = w + self._o_w1
        cdef const double* v1 = v + self._o_w1
        cdef const double* vbh = v + self._o_bh
        cdef const double* vbo = v + self._o_bo
        memset(out, 0, self.ndim * sizeof(double))
        d0 = 0
        while d0 < N:
            nb = N - d0 if N - d0 < RB else RB
            xb = self._x + <Py_ssize_t> d0 * I
            self._forward_blas(w, d0, nb, z, dz, d2, e, pr)
            # R{a}^T = V2 X^T (+ vbh); R{z} = dz R{a}
            _gemm(b'T', b'N', H, nb, I, 1.0, v, I, xb, I, 0.0, ra, H)
            for d in range(nb):
                for j in range(H):
                    ra[d * H + j] += vbh[j]
                    rz[d * H + j] = dz[d * H + j] * ra[d * H + j]
            # R{y}^T = V1 Z^T + W1 R{z}^T (+ vbo)
            _gemm(b'T', b'N', O, nb, H, 1.0, v1, H, z, H, 0.0, ry, O)
            _gemm(b'T', b'N', O, nb, H, 1.0, w1, H, rz, H, 1.0, ry, O)
            # R{e}, stored over ry (scaled by 1/N)
            for d in range(nb):
                for i in range(O):
                    ry[d * O + i] += vbo[i]
                if self._mse:
                    for i in range(O):
                        ry[d * O + i] *= 2.0 * inv_n
                else:
                    pry = 0.0
                    for i in range(O):
                        pry += pr[d * O + i] * ry[d * O + i]
                    for i in range(O):
                        ry[d * O + i] = pr[d * O + i] * (ry[d * O + i] - pry) * inv_n
            # output layer: R{gW1}^T += Z^T R{e} + R{z}^T e ; R{gbo} += sum_d R{e}
            _gemm(b'N', b'T', H, O, nb, 1.0, z, H, ry, O, 1.0, out + self._o_w1, H)
            _gemm(b'N', b'T', H, O, nb, 1.0, rz, H, e, O, 1.0, out + self._o_w1, H)
            for d in range(nb):
                for i in range(O):
                    out[self._o_bo + i] += ry[d * O + i]
            # s = e W1 (into rz, no longer needed), t = e V1 + R{e} W1
            _gemm(b'N', b'N', H, nb, O, 1.0, w1, H, e, O, 0.0, rz, H)
            _gemm(b'N', b'N', H, nb, O, 1.0, v1, H, e, O, 0.0, t, H)
            _gemm(b'N', b'N', H, nb, O, 1.0, w1, H, ry, O, 1.0, t, H)
            for p in range(<Py_ssize_t> nb * H):
                t[p] = d2[p] * ra[p] * rz[p] + dz[p] * t[p]
            # hidden layer: R{gW2}^T += X^T R{delta} ; R{gbh} += sum_d R{delta}
            _gemm(b'N', b'T', I, H, nb, 1.0, xb, I, t, H, 1.0, out, I)
            for d in range(nb):
                for j in range(H):
                    out[self._o_bh + j] += t[d * H + j]
            d0 += nb
        free(buf)
        for p in range(self.ndim):
            if self._in_reg(p):
                out[p] += two_lam * v[p]

    # ------------------------------------------------------------------ dense Hessian
    cdef inline Py_ssize_t _hid(self, int j, int k) noexcept nogil:
        """Flat index of the weight from input k (k == n_in: the bias) into hidden node j."""
        if k < self.n_in:
            return <Py_ssize_t> j * self.n_in + k
        return self._o_bh + j

    cdef inline Py_ssize_t _out(self, int i, int j) noexcept nogil:
        """Flat index of the weight from hidden node j (j == n_hidden: the bias) into output i."""
        if j < self.n_hidden:
            return self._o_w1 + <Py_ssize_t> i * self.n_hidden + j
        return self._o_bo + i

    cdef void _hessian_dense(self, const double* w, double* hess) noexcept nogil:
        """H = sum_d [J_d^T C_d J_d + sum_i e_di d2 y_di] + 2 lam diag(mask).

        J_d = dy/dW of item d, C_d = d2 loss/dy2 (1/N included), e_d = dloss/dy.  The
        hidden-hidden blocks (one per pair of hidden nodes, (I+1)^2 each) and the
        output-hidden blocks are weighted Gram matrices of the inputs, computed by dgemm.
        """
        cdef int I = self.n_in, H = self.n_hidden, O = self.n_out, N = self.n_data
        cdef int c1 = I + 1, h1 = H + 1, i, i2, j, j2, k, k2, r
        cdef Py_ssize_t n = self.ndim, d, p, q, NH = <Py_ssize_t> N * H
        cdef const double* w1 = w + self._o_w1
        cdef double acc, cij, inv_n = 1.0 / N
        cdef double* z = <double*> malloc((3 * NH + 2 * <Py_ssize_t> N * O) * sizeof(double))
        cdef double* xt = <double*> malloc(<Py_ssize_t> N * c1 * sizeof(double))
        cdef double* cg = <double*> malloc(<Py_ssize_t> N * O * H * sizeof(double))
        cdef double* mm = <double*> malloc(<Py_ssize_t> N * H * H * sizeof(double))
        cdef double* yw = <double*> malloc(<Py_ssize_t> N * (c1 if c1 > O * h1 else O * h1)
                                           * sizeof(double))
        cdef double* tb = <double*> malloc(<Py_ssize_t> c1 * (c1 if c1 > O * h1 else O * h1)
                                           * sizeof(double))
        cdef double* cc = <double*> malloc(<Py_ssize_t> O * O * sizeof(double))
        cdef double* zt = <double*> malloc(h1 * sizeof(double))
        if (z == NULL or xt == NULL or cg == NULL or mm == NULL or yw == NULL or tb == NULL
                or cc == NULL or zt == NULL):
            for p in range(n * n):
                hess[p] = NAN
            free(z); free(xt); free(cg); free(mm); free(yw); free(tb); free(cc); free(zt)
            return
        cdef double* dz = z + NH
        cdef double* d2 = z + 2 * NH
        cdef double* e = z + 3 * NH
        cdef double* pr = e + <Py_ssize_t> N * O
        memset(hess, 0, n * n * sizeof(double))
        self._forward_blas(w, 0, N, z, dz, d2, e, NULL if self._mse else pr)
        for d in range(N):
            for k in range(I):
                xt[d * c1 + k] = self._x[d * I + k]
            xt[d * c1 + I] = 1.0
        # per item: C_d, CG_d = C_d G_d (G_d[i, j] = W1_ij dz_dj), M_d = G_d^T CG_d + diag(s d2)
        for d in range(N):
            for i in range(O):
                for i2 in range(O):
                    if self._mse:
                        cc[i * O + i2] = 2.0 * inv_n if i == i2 else 0.0
                    else:
                        cc[i * O + i2] = ((pr[d * O + i] if i == i2 else 0.0)
                                          - pr[d * O + i] * pr[d * O + i2]) * inv_n
            for i in range(O):
                for j in range(H):
                    acc = 0.0
                    for i2 in range(O):
                        acc += cc[i * O + i2] * w1[i2 * H + j]
                    cg[(d * O + i) * H + j] = acc * dz[d * H + j]
            for j in range(H):
                for j2 in range(H):
                    acc = 0.0
                    for i in range(O):
                        acc += w1[i * H + j] * cg[(d * O + i) * H + j2]
                    mm[(d * H + j) * H + j2] = acc * dz[d * H + j]
                acc = 0.0
                for i in range(O):
                    acc += w1[i * H + j] * e[d * O + i]
                mm[(d * H + j) * H + j] += acc * d2[d * H + j]
            # output-output block: sum_d C_d,ii' zt_j zt_j'
            for j in range(H):
                zt[j] = z[d * H + j]
            zt[H] = 1.0
            for i in range(O):
                for j in range(h1):
                    p = self._out(i, j)
                    for i2 in range(O):
                        cij = cc[i * O + i2] * zt[j]
                        if cij == 0.0:
                            continue
                        for j2 in range(h1):
                            hess[p * n + self._out(i2, j2)] += cij * zt[j2]
        # make the output-output block exactly symmetric (the sums above round differently)
        for i in range(O):
            for j in range(h1):
                p = self._out(i, j)
                for i2 in range(O):
                    for j2 in range(h1):
                        q = self._out(i2, j2)
                        if p < q:
                            hess[q * n + p] = hess[p * n + q]
        # hidden-hidden blocks: T = Xt^T diag(M_jj') Xt
        for j in range(H):
            for j2 in range(j, H):
                for d in range(N):
                    acc = mm[(d * H + j) * H + j2]
                    for k in range(c1):
                        yw[d * c1 + k] = acc * xt[d * c1 + k]
                _gemm(b'N', b'T', c1, c1, N, 1.0, yw, c1, xt, c1, 0.0, tb, c1)
                for k in range(c1):
                    p = self._hid(j, k)
                    for k2 in range(c1):
                        q = self._hid(j2, k2)
                        hess[p * n + q] = tb[k * c1 + k2]
                        hess[q * n + p] = tb[k * c1 + k2]
        # output-hidden blocks, one dgemm per hidden node j2:
        # P[(i, j), d] = CG_d[i, j2] zt_dj + [j == j2] e_di dz_dj2 ; T = P Xt
        for j2 in range(H):
            for i in range(O):
                for j in range(h1):
                    r = i * h1 + j
                    for d in range(N):
                        acc = cg[(d * O + i) * H + j2] * (z[d * H + j] if j < H else 1.0)
                        if j == j2:
                            acc += e[d * O + i] * dz[d * H + j2]
                        yw[r * <Py_ssize_t> N + d] = acc
            _gemm(b'N', b'N', c1, O * h1, N, 1.0, xt, c1, yw, N, 0.0, tb, c1)
            for i in range(O):
                for j in range(h1):
                    p = self._out(i, j)
                    r = i * h1 + j
                    for k in range(c1):
                        q = self._hid(j2, k)
                        hess[p * n + q] = tb[r * c1 + k]
                        hess[q * n + p] = tb[r * c1 + k]
        for p in range(n):
            if self._in_reg(p):
                hess[p * n + p] += 2.0 * self.lam
        free(z); free(xt); free(cg); free(mm); free(yw); free(tb); free(cc); free(zt)

    # ------------------------------------------------------------------ CompiledLandscape
    cdef double c_energy(self, const double* x) noexcept nogil:
        if self._blas:
            return self._eg_blas(x, NULL)
        return self._eg_blocked(x, NULL)

    cdef double c_energy_gradient(self, const double* x, double* grad) noexcept nogil:
        if self._blas:
            return self._eg_blas(x, grad)
        return self._eg_blocked(x, grad)

    cdef void c_hessian(self, const double* x, double* hess) noexcept nogil:
        self._hessian_dense(x, hess)

    cdef void c_hessian_vector(self, const double* x, const double* v, double* out) noexcept nogil:
        if self._blas:
            self._hv_blas(x, v, out)
        else:
            self._hv_blocked(x, v, out)


def _rebuild(n_in, n_hidden, n_out, x, labels, targets, lam, reg_biases, activation, loss, path):
    """Unpickle an :class:`NNKernel` (used by ``__reduce__``)."""
    return NNKernel(n_in, n_hidden, n_out, x, labels=labels, targets=targets, lam=lam,
                    reg_biases=reg_biases, activation=activation, loss=loss, path=path)


def _vector_tanh(const double[::1] a):
    """tanh by the kernel's branch-free routine (for tests), a new array."""
    out = np.empty(a.shape[0])
    cdef double[::1] o = out
    cdef Py_ssize_t i
    for i in range(a.shape[0]):
        o[i] = _fast_tanh(a[i])
    return out


def _vector_exp_nonpos(const double[::1] x):
    """exp(x) for x <= 0 by the kernel's branch-free routine (for tests), a new array."""
    out = np.empty(x.shape[0])
    cdef double[::1] o = out
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        o[i] = _fast_exp_nonpos(x[i])
    return out
