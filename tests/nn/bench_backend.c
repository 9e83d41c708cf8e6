/* Backend decision benchmark (nn/README.md): one 3x3 conv, batch 128, 32->32 channels, 32x32,
 * pad 1; forward, backward-data and backward-weights through (a) oneDNN and (b) im2col + sgemm.
 * Usage: bench_backend [threads] [reps]. Not a test; short by design. */
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 128, C = 32, K = 32, H = 32, W = 32, R = 3 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHK(x)                                                                                     \
  do {                                                                                             \
    dnnl_status_t s_ = (x);                                                                        \
    if (s_ != dnnl_success) {                                                                      \
      fprintf(stderr, "%s:%d dnnl error %d\n", __FILE__, __LINE__, (int)s_);                       \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

static float *randbuf(size_t n) {
  float *p = malloc(n * sizeof *p);
  unsigned s = 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    p[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
  }
  return p;
}

static const double FLOP = 2.0 * N * K * C * R * R * H * W;

/* ---- oneDNN ---- */
typedef struct {
  dnnl_primitive_t prim;
  dnnl_primitive_desc_t pd;
} prim_t;

static dnnl_memory_t mem_for(dnnl_engine_t eng, const dnnl_memory_desc_t *md, void *h) {
  dnnl_memory_t m;
  CHK(dnnl_memory_create(&m, md, eng, h ? h : DNNL_MEMORY_ALLOCATE));
  return m;
}

static double reorder_time(dnnl_engine_t eng, dnnl_stream_t st, const dnnl_memory_desc_t *a,
                           const dnnl_memory_desc_t *b, int reps) {
  dnnl_primitive_desc_t pd;
  CHK(dnnl_reorder_primitive_desc_create(&pd, a, eng, b, eng, NULL));
  dnnl_primitive_t p;
  CHK(dnnl_primitive_create(&p, pd));
  dnnl_memory_t ma = mem_for(eng, a, NULL), mb = mem_for(eng, b, NULL);
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ma}, {DNNL_ARG_TO, mb}};
  CHK(dnnl_primitive_execute(p, st, 2, args));
  CHK(dnnl_stream_wait(st));
  double t0 = now();
  for (int i = 0; i < reps; i++)
    CHK(dnnl_primitive_execute(p, st, 2, args));
  CHK(dnnl_stream_wait(st));
  double t = (now() - t0) / reps;
  dnnl_primitive_destroy(p);
  dnnl_primitive_desc_destroy(pd);
  dnnl_memory_destroy(ma);
  dnnl_memory_destroy(mb);
  return t;
}

static void bench_dnnl(int reps, int blocked) {
  dnnl_engine_t eng;
  dnnl_stream_t st;
  CHK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CHK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
  dnnl_dims_t sd = {N, C, H, W}, wd = {K, C, R, R}, dd = {N, K, H, W}, bd = {K};
  dnnl_dims_t strides = {1, 1}, pad = {1, 1};
  dnnl_format_tag_t ft = blocked ? dnnl_format_tag_any : dnnl_nchw;
  dnnl_format_tag_t wt = blocked ? dnnl_format_tag_any : dnnl_oihw;
  dnnl_memory_desc_t smd, wmd, dmd, bmd;
  CHK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, ft));
  CHK(dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, wt));
  CHK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, ft));
  CHK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x));

  dnnl_convolution_desc_t fd, bdd, bwd;
  CHK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &smd,
                                         &wmd, &bmd, &dmd, strides, pad, pad));
  dnnl_primitive_desc_t fpd, bdpd, bwpd;
  CHK(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
  CHK(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &smd, &wmd, &dmd,
                                               strides, pad, pad));
  CHK(dnnl_primitive_desc_create(&bdpd, &bdd, NULL, eng, fpd));
  CHK(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &smd, &wmd, &bmd,
                                                  &dmd, strides, pad, pad));
  CHK(dnnl_primitive_desc_create(&bwpd, &bwd, NULL, eng, fpd));
  const char *impl;
  CHK(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl));
  printf("  fwd impl: %s", impl);
  CHK(dnnl_primitive_desc_query(bdpd, dnnl_query_impl_info_str, 0, &impl));
  printf(", bwd_d impl: %s", impl);
  CHK(dnnl_primitive_desc_query(bwpd, dnnl_query_impl_info_str, 0, &impl));
  printf(", bwd_w impl: %s\n", impl);

  const dnnl_memory_desc_t *qs = dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *qw = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *qd = dnnl_primitive_desc_query_md(fpd, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *qds = dnnl_primitive_desc_query_md(bdpd, dnnl_query_diff_src_md, 0);
  const dnnl_memory_desc_t *qdw = dnnl_primitive_desc_query_md(bwpd, dnnl_query_diff_weights_md, 0);
  const dnnl_memory_desc_t *qdd = dnnl_primitive_desc_query_md(bwpd, dnnl_query_diff_dst_md, 0);
  dnnl_memory_t src = mem_for(eng, qs, NULL), wei = mem_for(eng, qw, NULL),
                dst = mem_for(eng, qd, NULL), bias = mem_for(eng, &bmd, NULL),
                dsrc = mem_for(eng, qds, NULL), dwei = mem_for(eng, qdw, NULL),
                ddst = mem_for(eng, qdd, NULL), dbias = mem_for(eng, &bmd, NULL);
  float *p;
  dnnl_memory_get_data_handle(src, (void **)&p);
  float *r = randbuf((size_t)N * C * H * W);
  memcpy(p, r, sizeof(float) * N * C * H * W);
  dnnl_memory_get_data_handle(ddst, (void **)&p);
  memcpy(p, r, sizeof(float) * N * C * H * W);
  dnnl_memory_get_data_handle(wei, (void **)&p);
  memcpy(p, r, sizeof(float) * K * C * R * R);
  free(r);
  dnnl_primitive_t fp, bdp, bwp;
  CHK(dnnl_primitive_create(&fp, fpd));
  CHK(dnnl_primitive_create(&bdp, bdpd));
  CHK(dnnl_primitive_create(&bwp, bwpd));
  dnnl_exec_arg_t fa[] = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}};
  dnnl_exec_arg_t ba[] = {
      {DNNL_ARG_DIFF_SRC, dsrc}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_DST, ddst}};
  dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, src},
                          {DNNL_ARG_DIFF_WEIGHTS, dwei},
                          {DNNL_ARG_DIFF_BIAS, dbias},
                          {DNNL_ARG_DIFF_DST, ddst}};
  struct {
    const char *name;
    dnnl_primitive_t p;
    dnnl_exec_arg_t *a;
    int na;
  } ops[3] = {{"fwd", fp, fa, 4}, {"bwd_data", bdp, ba, 3}, {"bwd_weights", bwp, wa, 4}};
  for (int o = 0; o < 3; o++) {
    CHK(dnnl_primitive_execute(ops[o].p, st, ops[o].na, ops[o].a));
    CHK(dnnl_stream_wait(st));
    double t0 = now();
    for (int i = 0; i < reps; i++)
      CHK(dnnl_primitive_execute(ops[o].p, st, ops[o].na, ops[o].a));
    CHK(dnnl_stream_wait(st));
    double t = (now() - t0) / reps;
    printf("  oneDNN %-7s %-11s %7.2f ms %7.1f GFLOP/s\n", blocked ? "blocked" : "nchw",
           ops[o].name, t * 1e3, FLOP / t * 1e-9);
  }
  if (blocked) {
    dnnl_memory_desc_t plain;
    CHK(dnnl_memory_desc_init_by_tag(&plain, 4, sd, dnnl_f32, dnnl_nchw));
    double t = reorder_time(eng, st, &plain, qs, reps);
    printf("  reorder nchw->blocked activation %.2f ms\n", t * 1e3);
    t = reorder_time(eng, st, qs, &plain, reps);
    printf("  reorder blocked->nchw activation %.2f ms\n", t * 1e3);
  }
  dnnl_primitive_destroy(fp);
  dnnl_primitive_destroy(bdp);
  dnnl_primitive_destroy(bwp);
  dnnl_primitive_desc_destroy(fpd);
  dnnl_primitive_desc_destroy(bdpd);
  dnnl_primitive_desc_destroy(bwpd);
  dnnl_memory_t ms[] = {src, wei, dst, bias, dsrc, dwei, ddst, dbias};
  for (int i = 0; i < 8; i++)
    dnnl_memory_destroy(ms[i]);
  dnnl_stream_destroy(st);
  dnnl_engine_destroy(eng);
}

/* ---- im2col + sgemm (OpenBLAS single-threaded, batch split over OpenMP) ---- */
static void im2col(const float *x, float *col) {
  /* col[(c*9 + kh*3 + kw)][oh*W + ow] */
  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < R; kh++)
      for (int kw = 0; kw < R; kw++) {
        float *row = col + ((size_t)(c * R + kh) * R + kw) * H * W;
        for (int oh = 0; oh < H; oh++) {
          int ih = oh + kh - 1;
          for (int ow = 0; ow < W; ow++) {
            int iw = ow + kw - 1;
            row[oh * W + ow] =
                (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[((size_t)c * H + ih) * W + iw] : 0.f;
          }
        }
      }
}

static void col2im(const float *col, float *x) {
  memset(x, 0, sizeof(float) * C * H * W);
  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < R; kh++)
      for (int kw = 0; kw < R; kw++) {
        const float *row = col + ((size_t)(c * R + kh) * R + kw) * H * W;
        for (int oh = 0; oh < H; oh++) {
          int ih = oh + kh - 1;
          if (ih < 0 || ih >= H)
            continue;
          for (int ow = 0; ow < W; ow++) {
            int iw = ow + kw - 1;
            if (iw >= 0 && iw < W)
              x[((size_t)c * H + ih) * W + iw] += row[oh * W + ow];
          }
        }
      }
}

static void bench_gemm(int reps, int nthr) {
  const int CK = C * R * R, HW = H * W;
  float *x = randbuf((size_t)N * C * H * W), *y = randbuf((size_t)N * K * H * W);
  float *w = randbuf((size_t)K * CK), *dw_t = calloc((size_t)nthr * K * CK, sizeof(float));
  float *cols = malloc(sizeof(float) * (size_t)nthr * CK * HW);
  double t[3] = {0, 0, 0};
  for (int rep = -1; rep < reps; rep++) {
    double t0 = now();
#pragma omp parallel for schedule(static) num_threads(nthr)
    for (int n = 0; n < N; n++) {
      float *col = cols + (size_t)omp_get_thread_num() * CK * HW;
      im2col(x + (size_t)n * C * HW, col);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, HW, CK, 1.f, w, CK, col, HW, 0.f,
                  y + (size_t)n * K * HW, HW);
    }
    double t1 = now();
#pragma omp parallel for schedule(static) num_threads(nthr)
    for (int n = 0; n < N; n++) {
      float *col = cols + (size_t)omp_get_thread_num() * CK * HW;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CK, HW, K, 1.f, w, CK,
                  y + (size_t)n * K * HW, HW, 0.f, col, HW);
      col2im(col, x + (size_t)n * C * HW);
    }
    double t2 = now();
#pragma omp parallel for schedule(static) num_threads(nthr)
    for (int n = 0; n < N; n++) {
      int tid = omp_get_thread_num();
      float *col = cols + (size_t)tid * CK * HW;
      im2col(x + (size_t)n * C * HW, col);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, CK, HW, 1.f, y + (size_t)n * K * HW,
                  HW, col, HW, 1.f, dw_t + (size_t)tid * K * CK, CK);
    }
    double t3 = now();
    if (rep >= 0) {
      t[0] += t1 - t0;
      t[1] += t2 - t1;
      t[2] += t3 - t2;
    }
  }
  const char *nm[3] = {"fwd", "bwd_data", "bwd_weights"};
  for (int o = 0; o < 3; o++)
    printf("  im2col+sgemm %-11s %7.2f ms %7.1f GFLOP/s\n", nm[o], t[o] / reps * 1e3,
           FLOP / (t[o] / reps) * 1e-9);
  free(x), free(y), free(w), free(dw_t), free(cols);
}

int main(int argc, char **argv) {
  int nthr = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 10;
  omp_set_num_threads(nthr);
  openblas_set_num_threads(1);
  printf("conv3x3 N=%d C=%d K=%d %dx%d pad1, %.3f GFLOP/pass, threads=%d reps=%d\n", N, C, K, H, W,
         FLOP * 1e-9, nthr, reps);
  bench_dnnl(reps, 1);
  bench_dnnl(reps, 0);
  bench_gemm(reps, nthr);
  return 0;
}
