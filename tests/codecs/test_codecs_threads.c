/* Thread safety: one instance per codec, shared by several threads that encode and decode
 * concurrently (as the harness's OpenMP workers do). Every result must equal, byte for byte,
 * the result of the same call made serially beforehand.
 *
 * Usage: test_codecs_threads [PLUGIN.so] */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "codec_test_util.h"

#define N_THREADS 4
#define N_ROUNDS 3

typedef struct job {
  const codec_vtable *vt;
  const void *inst;
  const uint8_t *img;
  int w, h;
  double knob;
  codec_encoded ref;   /* serial encode */
  uint8_t *ref_pixels; /* serial decode of ref */
} job;

typedef struct worker {
  job *jobs;
  size_t n_jobs;
  int id;
  int mismatches, errors; /* written by this worker only */
  char first_problem[256];
} worker;

static void note(worker *w, const char *what, const job *j) {
  if (!w->first_problem[0])
    snprintf(w->first_problem, sizeof w->first_problem, "%s: %s %dx%d knob %g", what, j->vt->name,
             j->w, j->h, j->knob);
}

static void *work(void *arg) {
  worker *w = arg;
  char err[512];
  for (int round = 0; round < N_ROUNDS; round++) {
    /* Each thread walks the jobs from a different start, so different codecs and sizes
     * overlap in time. */
    for (size_t k = 0; k < w->n_jobs; k++) {
      job *j = &w->jobs[(k + (size_t)w->id * 7 + (size_t)round) % w->n_jobs];
      codec_encoded e;
      if (j->vt->encode(j->inst, j->img, j->w, j->h, j->knob, &e, err, sizeof err)) {
        w->errors++;
        note(w, "encode failed", j);
        continue;
      }
      if (e.size != j->ref.size || e.stream_bytes != j->ref.stream_bytes ||
          memcmp(e.data, j->ref.data, e.size) != 0) {
        w->mismatches++;
        note(w, "encode differs", j);
      }
      free(e.data);
      uint8_t *px;
      int ow, oh;
      if (j->vt->decode(j->inst, j->ref.data, j->ref.size, &px, &ow, &oh, err, sizeof err)) {
        w->errors++;
        note(w, "decode failed", j);
        continue;
      }
      if (ow != j->w || oh != j->h || memcmp(px, j->ref_pixels, (size_t)ow * (size_t)oh * 3)) {
        w->mismatches++;
        note(w, "decode differs", j);
      }
      free(px);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  codec_registry *reg = NULL;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "registry: %s\n", err);
    return 1;
  }
  if (argc > 1 && codec_registry_load_plugin(reg, argv[1], err, sizeof err))
    CHECK(0, "loading %s: %s", argv[1], err);

  const int sizes[][2] = {{32, 32}, {33, 17}, {160, 96}};
  uint8_t *imgs[3];
  for (int s = 0; s < 3; s++)
    imgs[s] = ctu_make_image(sizes[s][0], sizes[s][1], CTU_TEXTURED, (uint64_t)s);

  size_t n_codecs = codec_registry_count(reg);
  void **insts = calloc(n_codecs, sizeof *insts);
  int *created = calloc(n_codecs, sizeof *created);
  job *jobs = calloc(n_codecs * 3 * 3, sizeof *jobs);
  size_t n_jobs = 0;
  for (size_t c = 0; c < n_codecs; c++) {
    const codec_vtable *vt = codec_registry_at(reg, c);
    if (!strcmp(vt->name, "saic")) /* needs a model: tests/saic/test_saic_codec.c */
      continue;
    if (vt->create(NULL, 0, &insts[c], err, sizeof err)) {
      CHECK(0, "%s: create failed: %s", vt->name, err);
      continue;
    }
    created[c] = 1;
    for (int s = 0; s < 3; s++)
      for (int k = 0; k < 3; k++) {
        job *j = &jobs[n_jobs];
        double t = 0.3 + 0.3 * k; /* 30%, 60%, 90% along the knob range, in rate order */
        double lo = vt->knob.min, hi = vt->knob.max;
        if (!strcmp(vt->name, "jpeg2000")) /* its useful range is the low ratios */
          hi = 40;
        j->knob = vt->knob.rate_increases > 0 ? lo + t * (hi - lo) : hi - t * (hi - lo);
        if (vt->knob.kind == CODEC_KNOB_INT)
          j->knob = (double)(long)(j->knob + 0.5);
        j->vt = vt;
        j->inst = insts[c];
        j->img = imgs[s];
        j->w = sizes[s][0];
        j->h = sizes[s][1];
        int ow, oh;
        if (vt->encode(j->inst, j->img, j->w, j->h, j->knob, &j->ref, err, sizeof err) ||
            vt->decode(j->inst, j->ref.data, j->ref.size, &j->ref_pixels, &ow, &oh, err,
                       sizeof err)) {
          CHECK(0, "%s: serial reference failed: %s", vt->name, err);
          free(j->ref.data);
          continue;
        }
        n_jobs++;
      }
  }

  pthread_t th[N_THREADS];
  worker ws[N_THREADS];
  double t0 = ctu_now();
  for (int i = 0; i < N_THREADS; i++) {
    ws[i] = (worker){jobs, n_jobs, i, 0, 0, ""};
    CHECK(pthread_create(&th[i], NULL, work, &ws[i]) == 0, "pthread_create failed");
  }
  for (int i = 0; i < N_THREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(ws[i].mismatches == 0 && ws[i].errors == 0,
          "thread %d: %d mismatches, %d errors; first: %s", i, ws[i].mismatches, ws[i].errors,
          ws[i].first_problem);
  }
  printf("%d threads x %d rounds x %zu jobs (encode + decode) in %.2f s\n", N_THREADS, N_ROUNDS,
         n_jobs, ctu_now() - t0);

  for (size_t i = 0; i < n_jobs; i++) {
    free(jobs[i].ref.data);
    free(jobs[i].ref_pixels);
  }
  for (size_t c = 0; c < n_codecs; c++)
    if (created[c])
      codec_registry_at(reg, c)->destroy(insts[c]);
  free(jobs);
  free(insts);
  free(created);
  for (int s = 0; s < 3; s++)
    free(imgs[s]);
  codec_registry_destroy(reg);
  return sb_test_status("test_codecs_threads");
}
