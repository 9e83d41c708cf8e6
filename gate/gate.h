/* `saicbench gate`: validates a codec (a new SAIC checkpoint, a changed codec setting) against a
 * baseline before release, and says pass or fail.
 *
 * The validation suite (suites/validate.yaml) is an ordinary suite with a `gate:` mapping: its
 * datasets and tasks are used as they are, its codec list is replaced by the candidate and the
 * baseline, and the gate's grid (gate.knob, gate.bpp) is applied to both (a SPEC that names its
 * own knob or bpp grid keeps it). The candidate (and the baseline, when it is a SPEC) run into
 * one new run of the result database; a baseline given as RUN_ID is read from a run already
 * there (same images required: the datasets' content hashes must match). Then:
 *  (a) rate range: the candidate's points must reach gate.min_bpp and gate.max_bpp (mean file
 *      bpp per point, per dataset); no more failed images than the baseline;
 *  (b) determinism: a few images are encoded twice in-process (same bytes), and the encoded
 *      files decoded in two separate processes (`saicbench __gate-decode`, 1 thread and
 *      max(2, --threads) threads): the decoded bytes must be identical;
 *  (c) per grid point matched with the baseline (bpp targets always; knob values only when both
 *      are the same codec, since different codecs' knobs do not correspond; targets that a side
 *      could not reach for some image are skipped): accuracy may be below the baseline's by at
 *      most max(tolerance_se * SE, accuracy_floor), SE = sqrt(pA(1-pA)/nA + pB(1-pB)/nB), and
 *      SI_norm by at most max(tolerance_se * SE_agreement, si_norm_tol); each such row also
 *      carries the paired bootstrap 95 % interval of candidate - baseline on the same images
 *      (metrics/metrics.h; "ci95_lo"/"ci95_hi" in verdict.json, text in the detail),
 *      for the reader: the verdict is the rule above;
 *  (d) BD-accuracy (accuracy points at equal log-rate, >= min_bd_accuracy) and BD-rate at equal
 *      accuracy (percent, <= max_bd_rate) against the baseline, on each side's knob points (all
 *      points when it has fewer than 4 knob points), duplicates of a rate dropped. A BD value
 *      that cannot be computed (metrics/metrics.h statuses) fails or warns per gate.not_comparable.
 * Every check becomes one row of the verdict (pass, warn, fail, skip); the gate fails when any
 * row fails. The verdict is printed and written to OUT/verdict.json and OUT/verdict.md.
 *
 * Thread-safety: gate_run is called once per process (it runs the runner and spawns
 * processes). */
#ifndef SAICBENCH_GATE_H
#define SAICBENCH_GATE_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses of `saicbench gate`. */
enum { GATE_PASS = 0, GATE_FAIL = 1, GATE_ERROR = 2, GATE_INTERRUPTED = 130 };

typedef struct gate_options {
  const char *candidate;      /* SPEC, or a path ending in .ckpt: saic:model=PATH */
  const char *baseline;       /* SPEC, RUN_ID (digits: a run in db_path), NULL: gate.baseline */
  const char *baseline_label; /* with RUN_ID: the codec label in that run; NULL: its only codec */
  const char *suite_path;     /* the validation suite */
  const char *db_path;        /* NULL: OUT/gate.db */
  const char *out_dir;        /* verdict.json, verdict.md, determinism/ */
  const char *data_root;      /* suite dataset paths are relative to it */
  int threads;                /* >= 1 */
  int quiet;                  /* no progress output from the run */
  const char *const *plugins; /* extra codec plugins (--plugin) */
  size_t n_plugins;
  const char *self_exe;        /* this program, spawned for the decode-determinism check */
  const char *command;         /* the command line, stored with the run */
  volatile sig_atomic_t *stop; /* set by SIGINT; may be NULL */
} gate_options;

/* Runs the gate. Returns GATE_PASS or GATE_FAIL after writing the verdict (table to `out`, may
 * be NULL), GATE_INTERRUPTED when stopped, GATE_ERROR with a one-line message in err when the
 * gate could not be evaluated (bad suite, unknown codec, baseline run not found, ...). */
int gate_run(const gate_options *o, FILE *out, char *err, size_t err_len);

/* The hidden subcommand `saicbench __gate-decode --spec SPEC --threads N --count K --in DIR
 * --out DIR [--plugin PATH]...`: decodes DIR/000.bin .. DIR/(K-1).bin with the codec of SPEC,
 * the OpenMP thread count set to N, into OUT/000.ppm ... Exit status 0, or 2 with a message on
 * stderr. argv[0] is the subcommand's name. */
int gate_decode_main(int argc, char **argv);

#endif
