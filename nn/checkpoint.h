/* checkpoint.h - one file per model: parameters, buffers and metadata (prefix nn_ckpt_).
 *
 * Format version 1, all integers little-endian:
 *   0   char[8]  magic "SBNNCKPT"
 *   8   u32      format version (1)
 *   12  u32      flags (0; any other value is refused)
 *   16  u64      total file size in bytes, checksum included
 *   24  u32      metadata entry count, then per entry: u32 key length, key bytes,
 *                u32 value length, value bytes (UTF-8, no NUL)
 *       u32      tensor count, then per tensor: u16 name length, name bytes, u8 rank (1..4),
 *                u8 dtype (1 = float32), u32 dims[rank], float32 data (row-major)
 *   end-8 u64    XXH3-64 of every preceding byte
 * Metadata keys used by saicbench: "arch" (required; the loader compares it), "command",
 * "config", "dataset_hash", "scores", "created" (ISO 8601 UTC, filled in when absent).
 *
 * The reader treats the file as hostile: it checks size, magic, version, flags and checksum,
 * then bounds-checks every length while parsing (a crafted file can carry a valid checksum),
 * and refuses with a message that names the file and the problem. */
#ifndef SB_NN_CHECKPOINT_H
#define SB_NN_CHECKPOINT_H

#include "nn.h"

#define NN_CKPT_MAGIC "SBNNCKPT"
#define NN_CKPT_VERSION 1u
/* Files above this size are refused before reading (a classifier/codec is a few MB). */
#define NN_CKPT_MAX_BYTES ((uint64_t)1 << 32)

typedef struct nn_kv {
  const char *key, *value;
} nn_kv;

/* Writes every parameter and buffer of net plus the metadata (must contain "arch") to path,
 * through a temporary file renamed into place. */
int nn_ckpt_save(const char *path, nn_net *net, const nn_kv *meta, int nmeta, nn_err *err);

/* Several networks (and plain tensors) in one file, for models made of more than one network
 * (a codec's encoder and decoder): each part's parameters are stored under `prefix` + name.
 * Extra tensors (e.g. a codec's integer probability tables, stored as exact float32 integers)
 * are stored under their own names. Names must be unique across the file. */
typedef struct nn_ckpt_part {
  const char *prefix; /* e.g. "enc." ("" for none) */
  nn_net *net;
} nn_ckpt_part;
typedef struct nn_ckpt_extra {
  const char *name;
  int rank; /* 1..4 */
  int dims[4];
  const float *data;
} nn_ckpt_extra;
int nn_ckpt_save_parts(const char *path, const nn_ckpt_part *parts, int nparts,
                       const nn_ckpt_extra *extras, int nextras, const nn_kv *meta, int nmeta,
                       nn_err *err);

typedef struct nn_ckpt nn_ckpt;

/* Reads and validates a file (structure and checksum, not the architecture). */
int nn_ckpt_read(const char *path, nn_ckpt **out, nn_err *err);
void nn_ckpt_free(nn_ckpt *ck);
const char *nn_ckpt_path(const nn_ckpt *ck);
const char *nn_ckpt_meta(const nn_ckpt *ck, const char *key); /* NULL if absent */
int nn_ckpt_num_meta(const nn_ckpt *ck);
/* NN_E_ARG if i is out of range. */
int nn_ckpt_meta_at(const nn_ckpt *ck, int i, const char **key, const char **value);
int nn_ckpt_num_tensors(const nn_ckpt *ck);
/* name, rank, dims (4 entries, unused ones 1) and data of tensor i; NN_E_ARG if out of range. */
int nn_ckpt_tensor_at(const nn_ckpt *ck, int i, const char **name, int *rank, int dims[4],
                      const float **data);

/* Copies the checkpoint into net after checking: metadata "arch" equals expected_arch (unless
 * NULL), every parameter/buffer of net is present with the same shape, and the file has no
 * tensor the network lacks. Nothing is copied unless all checks pass. */
int nn_ckpt_apply(const nn_ckpt *ck, nn_net *net, const char *expected_arch, nn_err *err);
/* Copies the tensors named prefix + <parameter name> into net, with the checks of
 * nn_ckpt_apply restricted to that prefix (tensors outside it are left alone; a tensor under
 * the prefix that the network lacks is an error). Does not look at "arch". */
int nn_ckpt_apply_part(const nn_ckpt *ck, nn_net *net, const char *prefix, nn_err *err);
/* Index of the tensor with this exact name, or -1. */
int nn_ckpt_find_tensor(const nn_ckpt *ck, const char *name);
/* nn_ckpt_read + nn_ckpt_apply. */
int nn_ckpt_load(const char *path, nn_net *net, const char *expected_arch, nn_err *err);

#endif
