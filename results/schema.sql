-- saicbench result database, schema version 3 (PRAGMA user_version = 3).
-- Version 2 added the task tables (tasks, task_refs, task_results, task_aggregates); a version-1
-- database is upgraded in place by adding them (nothing else changes). Version 3 added the
-- opt-in image metrics: the columns from psnr_y on at the end of results and from mean_psnr_y on
-- at the end of aggregates (NULL when not computed), and them in the views result_rows and
-- point_summary; an older database is upgraded in place by ALTER TABLE ... ADD COLUMN (existing
-- rows get NULL) and by re-creating those two views (results/store_open.c). Later additions that old
-- readers need not know about do not change the version: the timing_repeats table and the views
-- at the end (result_rows, task_result_rows, point_summary, task_point_summary). saicbench adds
-- any table, index or view of this file that is missing to a saicbench database it opens for
-- writing (results/store_open.c, store_open); readers do not require them.
-- Embedded into the binary at build time (results/store_open.c); this file is the reference.
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
  -- Version 3, opt-in (suite key metrics:), NULL when not computed; docs/metrics.md. New
  -- columns go at the end: an upgraded file adds them there (ALTER TABLE ... ADD COLUMN).
  psnr_y        REAL,             -- PSNR of BT.601 full-range Y (psnr_y or psnr_ycbcr)
  psnr_cb       REAL,             -- of Cb, Cr (psnr_ycbcr)
  psnr_cr       REAL,
  psnr_ycbcr    REAL,             -- (6 psnr_y + psnr_cb + psnr_cr) / 8
  ciede2000     REAL,             -- mean CIEDE2000 over pixels
  butteraugli_max REAL,           -- libjxl Butteraugli, max of the distance map (NULL below 8 px)
  butteraugli_3norm REAL,         -- its 3-norm
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;

-- Every timed repeat of a results row's final encode and decode (run --timing-repeats N, N > 1;
-- no row otherwise and none for a row with an error). JSON arrays of milliseconds in the order
-- measured, each number the shortest decimal that reads back as the measured double; the
-- results row's encode_ms / decode_ms is the median of these exactly. Usually N values; fewer
-- when a repeat failed (the ones taken before it are kept). Added without a version change.
CREATE TABLE IF NOT EXISTS timing_repeats (
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL REFERENCES points(id),
  encode_ms     TEXT NOT NULL,    -- JSON array, e.g. [1.25,1.1875,1.3125]
  decode_ms     TEXT NOT NULL,
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;

-- Example-image thumbnails for the report's strips, made by the runner as it goes (so reports
-- never reopen datasets or codecs): for the first few images of each dataset (run
-- --strip-images, default 2), the original (point_id 0) and every decoded image (the point's
-- id), downscaled by a whole factor to at most 128 px wide (box filter) and stored as PNG.
-- Added without a version change; runs written before it existed have none.
CREATE TABLE IF NOT EXISTS thumbnails (
  image_id      INTEGER NOT NULL REFERENCES images(id),
  point_id      INTEGER NOT NULL, -- points.id, or 0 for the original image
  width         INTEGER NOT NULL, -- of the thumbnail
  height        INTEGER NOT NULL,
  png           BLOB NOT NULL,
  PRIMARY KEY (image_id, point_id)
) WITHOUT ROWID;

-- The content checksum of a complete run, written when its status becomes 'complete'
-- (results/checksum.c): SHA-256 over every row of the run's datasets, images, codecs, points,
-- results, timing_repeats, thumbnails, aggregates, tasks, task_refs, task_results and
-- task_aggregates, in primary-key order, each value with its type; the version-3 columns of
-- results and aggregates only where they are not NULL, tagged with their name, so that a run
-- stored before version 3 keeps its checksum after the upgrade adds them (docs/schema.md).
-- `saicbench merge` recomputes it for every shard
-- and refuses one whose content changed after it completed. Added without a version change;
-- runs written before it existed have no row.
CREATE TABLE IF NOT EXISTS run_checksums (
  run_id        INTEGER PRIMARY KEY REFERENCES runs(id),
  sha256        TEXT NOT NULL,    -- 64 lowercase hex digits
  n_rows        INTEGER NOT NULL, -- rows covered
  computed_at   TEXT NOT NULL     -- ISO 8601 UTC
);

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
  -- Version 3: means of the opt-in metrics, NULL values skipped, NULL when none.
  mean_psnr_y   REAL,
  mean_psnr_cb  REAL,
  mean_psnr_cr  REAL,
  mean_psnr_ycbcr REAL,
  mean_ciede2000 REAL,
  mean_butteraugli_max REAL,
  mean_butteraugli_3norm REAL,
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

-- Flat views: the usual joins done once, so a question about results needs no join (names instead
-- of ids; the ids are kept for joining further). They store nothing and are not part of the
-- version number: saicbench creates any that are missing whenever it opens one of its own
-- databases for writing (results/store_open.c, store_open; the same check covers every
-- CREATE ... IF NOT EXISTS statement that starts a line here), so an older version-2 file gains
-- them on its next run or merge; read-only opens leave a file as it is. CREATE VIEW IF NOT EXISTS never
-- replaces a view: changing a view's columns later needs a DROP VIEW in store_open's upgrade
-- (as version 3 does for result_rows and point_summary; new columns go at the end of a view).
-- docs/schema.md documents them with ready queries (tests/harness/test_views.py runs those).

-- One row per results row.
CREATE VIEW IF NOT EXISTS result_rows AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, i.idx AS image_idx, i.name AS image_name,
       i.label AS label, CASE WHEN i.label IS NOT NULL AND json_valid(d.class_names)
         THEN json_extract(d.class_names, '$[' || i.label || ']') END AS class_name,
       i.width AS width, i.height AS height, c.label AS codec, c.codec AS codec_name,
       c.knob_name AS knob_name, p.kind AS point_kind, p.value AS point_value, r.knob AS knob,
       r.bytes AS bytes, r.stream_bytes AS stream_bytes, r.bpp AS bpp, r.stream_bpp AS stream_bpp,
       r.mse AS mse, r.psnr AS psnr, r.ssim AS ssim, r.ms_ssim AS ms_ssim,
       r.encode_ms AS encode_ms, r.decode_ms AS decode_ms, r.n_encodes AS n_encodes,
       r.target_unreachable AS target_unreachable, r.error AS error,
       d.id AS dataset_id, r.image_id AS image_id, c.id AS codec_id, r.point_id AS point_id,
       r.psnr_y AS psnr_y, r.psnr_cb AS psnr_cb, r.psnr_cr AS psnr_cr,
       r.psnr_ycbcr AS psnr_ycbcr, r.ciede2000 AS ciede2000,
       r.butteraugli_max AS butteraugli_max, r.butteraugli_3norm AS butteraugli_3norm
FROM results r
JOIN images i ON i.id = r.image_id
JOIN datasets d ON d.id = i.dataset_id
JOIN points p ON p.id = r.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN runs ru ON ru.id = d.run_id;

-- One row per task_results row, with the results row's rate and PSNR and the task's output on
-- the original (task_refs).
CREATE VIEW IF NOT EXISTS task_result_rows AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, i.idx AS image_idx, i.name AS image_name,
       i.label AS label, CASE WHEN i.label IS NOT NULL AND json_valid(d.class_names)
         THEN json_extract(d.class_names, '$[' || i.label || ']') END AS class_name,
       t.name AS task, t.arch AS task_arch, c.label AS codec, c.codec AS codec_name,
       p.kind AS point_kind, p.value AS point_value, r.bpp AS bpp, r.psnr AS psnr,
       tr.top1 AS top1, tr.correct AS correct, tr.agree AS agree, tr.kl AS kl,
       tf.top1 AS ref_top1, tf.correct AS ref_correct,
       d.id AS dataset_id, tr.image_id AS image_id, c.id AS codec_id, tr.point_id AS point_id,
       tr.task_id AS task_id
FROM task_results tr
JOIN tasks t ON t.id = tr.task_id
JOIN images i ON i.id = tr.image_id
JOIN datasets d ON d.id = i.dataset_id
JOIN points p ON p.id = tr.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN runs ru ON ru.id = t.run_id
LEFT JOIN results r ON r.image_id = tr.image_id AND r.point_id = tr.point_id
LEFT JOIN task_refs tf ON tf.task_id = tr.task_id AND tf.image_id = tr.image_id;

-- One row per aggregates row (grid point x dataset).
CREATE VIEW IF NOT EXISTS point_summary AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, c.label AS codec, c.codec AS codec_name,
       c.knob_name AS knob_name, p.kind AS point_kind, p.value AS point_value,
       a.n AS n, a.n_errors AS n_errors, a.n_unreachable AS n_unreachable,
       a.mean_knob AS mean_knob, a.mean_bpp AS mean_bpp, a.mean_stream_bpp AS mean_stream_bpp,
       a.mean_psnr AS mean_psnr, a.psnr_of_mean_mse AS psnr_of_mean_mse,
       a.mean_ssim AS mean_ssim, a.mean_ms_ssim AS mean_ms_ssim,
       a.mean_encode_ms AS mean_encode_ms, a.mean_decode_ms AS mean_decode_ms,
       a.dataset_id AS dataset_id, c.id AS codec_id, a.point_id AS point_id,
       a.mean_psnr_y AS mean_psnr_y, a.mean_psnr_cb AS mean_psnr_cb,
       a.mean_psnr_cr AS mean_psnr_cr, a.mean_psnr_ycbcr AS mean_psnr_ycbcr,
       a.mean_ciede2000 AS mean_ciede2000, a.mean_butteraugli_max AS mean_butteraugli_max,
       a.mean_butteraugli_3norm AS mean_butteraugli_3norm
FROM aggregates a
JOIN points p ON p.id = a.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN datasets d ON d.id = a.dataset_id
JOIN runs ru ON ru.id = d.run_id;

-- One row per task_aggregates row (task x grid point x dataset), with the point's mean rate and
-- PSNR from aggregates.
CREATE VIEW IF NOT EXISTS task_point_summary AS
SELECT ru.id AS run_id, ru.started_at AS started_at, ru.suite_name AS suite_name,
       ru.status AS run_status, d.name AS dataset, t.name AS task, t.arch AS task_arch,
       c.label AS codec, c.codec AS codec_name, p.kind AS point_kind, p.value AS point_value,
       a.mean_bpp AS mean_bpp, a.mean_psnr AS mean_psnr,
       ta.n AS n, ta.accuracy AS accuracy, ta.ref_accuracy AS ref_accuracy,
       ta.agreement AS agreement, ta.h_a AS h_a, ta.si AS si, ta.si_norm AS si_norm,
       ta.i_y_a AS i_y_a, ta.i_y_b AS i_y_b, ta.delta_i AS delta_i, ta.mean_kl AS mean_kl,
       ta.dataset_id AS dataset_id, c.id AS codec_id, ta.point_id AS point_id,
       ta.task_id AS task_id
FROM task_aggregates ta
JOIN tasks t ON t.id = ta.task_id
JOIN points p ON p.id = ta.point_id
JOIN codecs c ON c.id = p.codec_id
JOIN datasets d ON d.id = ta.dataset_id
JOIN runs ru ON ru.id = t.run_id
LEFT JOIN aggregates a ON a.point_id = ta.point_id AND a.dataset_id = ta.dataset_id;
