-- saicbench result database, schema version 2 (PRAGMA user_version = 2).
-- Version 2 added the task tables (tasks, task_refs, task_results, task_aggregates); a version-1
-- database is upgraded in place by adding them (nothing else changes).
-- Embedded into the binary at build time (harness/store.c); this file is the reference.
-- Units: bytes are file bytes unless named stream_*; bpp = 8*bytes/(width*height);
-- times in milliseconds; metrics NULL where undefined (e.g. MS-SSIM below 161 px).

CREATE TABLE IF NOT EXISTS runs (
  id            INTEGER PRIMARY KEY,
  suite_name    TEXT NOT NULL,
  suite_path    TEXT,             -- NULL for ad-hoc runs
  suite_hash    TEXT NOT NULL,    -- XXH3-128 of the canonical run plan (suite + data + limits)
  suite_text    TEXT,             -- the suite file as read, for reproduction
  command       TEXT,             -- argv joined
  started_at    TEXT NOT NULL,    -- ISO 8601 UTC
  ended_at      TEXT,
  status        TEXT NOT NULL CHECK (status IN ('running','interrupted','complete','failed')),
  git_revision  TEXT,
  host          TEXT,
  threads       INTEGER,
  library_versions TEXT,          -- JSON object {"libjpeg-turbo": "...", ...}
  saicbench_version TEXT,
  shard         TEXT              -- "I/N" for one shard of a partitioned run, NULL otherwise
);

CREATE TABLE IF NOT EXISTS datasets (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  name          TEXT NOT NULL,    -- suite name of the dataset, e.g. "cifar10-test"
  path          TEXT NOT NULL,
  kind          TEXT NOT NULL,    -- cifar-binary | class-folders | plain-folder
  content_hash  TEXT NOT NULL,    -- XXH3-128 over the selected images (names, labels, bytes)
  n_images      INTEGER NOT NULL,
  n_classes     INTEGER NOT NULL,
  class_names   TEXT,             -- JSON array, index = label
  selection     TEXT,             -- e.g. "limit=1000 stride=10"
  UNIQUE (run_id, name)
);

CREATE TABLE IF NOT EXISTS images (
  id            INTEGER PRIMARY KEY,
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
  idx           INTEGER NOT NULL, -- position in the dataset's full listing
  name          TEXT NOT NULL,
  label         INTEGER,          -- NULL when unlabeled
  width         INTEGER,          -- NULL when the image could not be read
  height        INTEGER,
  hash          TEXT,             -- XXH3-128 of the decoded RGB8 pixels
  error         TEXT,             -- why the image could not be used, NULL if fine
  UNIQUE (dataset_id, idx)
);

CREATE TABLE IF NOT EXISTS codecs (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  label         TEXT NOT NULL,    -- unique name in the run, e.g. "jpeg" or "jpeg-444"
  codec         TEXT NOT NULL,    -- codec_vtable.name
  library_version TEXT,
  settings      TEXT NOT NULL,    -- JSON object of the settings given
  knob_name     TEXT NOT NULL,
  plugin_path   TEXT,
  UNIQUE (run_id, label)
);

-- One grid point of one codec: a knob value (kind 'knob') or a bpp target (kind 'bpp').
CREATE TABLE IF NOT EXISTS points (
  id            INTEGER PRIMARY KEY,
  codec_id      INTEGER NOT NULL REFERENCES codecs(id),
  kind          TEXT NOT NULL CHECK (kind IN ('knob','bpp')),
  value         REAL NOT NULL,    -- the knob value, or the target bpp
  UNIQUE (codec_id, kind, value)
);

-- One row per image x grid point. The achieved bpp is stored, never the target.
CREATE TABLE IF NOT EXISTS results (
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  knob          REAL,             -- knob value actually used
  bytes         INTEGER,          -- file bytes
  stream_bytes  INTEGER,
  bpp           REAL,             -- 8*bytes/(w*h)
  stream_bpp    REAL,
  mse           REAL,
  psnr          REAL,
  ssim          REAL,
  ms_ssim       REAL,
  encode_ms     REAL,             -- of the final encode
  decode_ms     REAL,
  n_encodes     INTEGER,          -- encodes spent (bpp targets bisect)
  target_unreachable INTEGER NOT NULL DEFAULT 0, -- 1: even the lowest rate exceeds the target
  error         TEXT,             -- NULL on success
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;

-- Per grid point x dataset, recomputed from results when a run completes.
CREATE TABLE IF NOT EXISTS aggregates (
  point_id      INTEGER NOT NULL REFERENCES points(id),
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
  n             INTEGER NOT NULL, -- images with a result and no error
  n_errors      INTEGER NOT NULL,
  n_unreachable INTEGER NOT NULL,
  mean_knob     REAL,
  mean_bpp      REAL,
  mean_stream_bpp REAL,
  mean_psnr     REAL,             -- mean of per-image PSNR
  psnr_of_mean_mse REAL,
  mean_ssim     REAL,
  mean_ms_ssim  REAL,             -- NULL if undefined for every image
  mean_encode_ms REAL,
  mean_decode_ms REAL,
  PRIMARY KEY (point_id, dataset_id)
) WITHOUT ROWID;

-- A task network (classifier) run on every decoded image of the datasets it fits (same input
-- size). Added in schema version 2.
CREATE TABLE IF NOT EXISTS tasks (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  name          TEXT NOT NULL,    -- unique name in the run, e.g. "resnet20"
  kind          TEXT NOT NULL,    -- 'classifier'
  checkpoint    TEXT NOT NULL,    -- path as given (resolved against the suite file's folder)
  checkpoint_sha256 TEXT NOT NULL,
  arch          TEXT NOT NULL,    -- architecture name from the checkpoint
  num_classes   INTEGER NOT NULL,
  input_width   INTEGER NOT NULL, -- images of another size are not scored by this task
  input_height  INTEGER NOT NULL,
  UNIQUE (run_id, name)
);

-- The task's output on each original image, computed once per image.
CREATE TABLE IF NOT EXISTS task_refs (
  task_id       INTEGER NOT NULL REFERENCES tasks(id),
  image_id      INTEGER NOT NULL REFERENCES images(id),
  top1          INTEGER NOT NULL, -- predicted class on the original (A)
  correct       INTEGER,          -- top1 == label; NULL when unlabeled
  probs         BLOB NOT NULL,    -- num_classes softmax probabilities, float32 little-endian
  PRIMARY KEY (task_id, image_id)
) WITHOUT ROWID;

-- The task's output on one decoded image (one result row).
CREATE TABLE IF NOT EXISTS task_results (
  task_id       INTEGER NOT NULL REFERENCES tasks(id),
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  top1          INTEGER NOT NULL, -- predicted class on the decoded image (B)
  correct       INTEGER,          -- top1 == label; NULL when unlabeled
  agree         INTEGER NOT NULL, -- top1 == task_refs.top1
  kl            REAL NOT NULL,    -- KL(T(x) || T(x_hat)) in bits
  PRIMARY KEY (task_id, image_id, point_id)
) WITHOUT ROWID;

-- Per task x grid point x dataset, recomputed from task_results when a run completes.
-- Information quantities in bits, plug-in estimates over the n images (biased up for small n).
CREATE TABLE IF NOT EXISTS task_aggregates (
  task_id       INTEGER NOT NULL REFERENCES tasks(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id),
  n             INTEGER NOT NULL, -- decoded images scored
  accuracy      REAL,             -- NULL when unlabeled
  ref_accuracy  REAL,             -- accuracy on the originals of the same n images
  agreement     REAL,
  h_a           REAL,             -- H(A)
  si            REAL,             -- I(A;B)
  si_norm       REAL,             -- SI / H(A)
  i_y_a         REAL,             -- I(Y;A)
  i_y_b         REAL,             -- I(Y;B)
  delta_i       REAL,             -- I(Y;A) - I(Y;B)
  mean_kl       REAL,
  PRIMARY KEY (task_id, point_id, dataset_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS results_point ON results(point_id);
CREATE INDEX IF NOT EXISTS images_dataset ON images(dataset_id);
CREATE INDEX IF NOT EXISTS task_results_point ON task_results(point_id);
