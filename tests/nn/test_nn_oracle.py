#!/usr/bin/python3
"""PyTorch oracle for nn/: the same model, weights and input in torch, compared to nn_oracle_cli.

usage: /usr/bin/python3 test_nn_oracle.py PATH/TO/nn_oracle_cli

The CLI writes its initial weights as an nn checkpoint (parsed here independently from the
format description in nn/nn.h; the XXH3 checksum is not re-verified in Python) and the
results of a train-mode and then an eval-mode forward/backward: logits, loss, input gradient,
parameter gradients, BN running statistics. Torch runs the same two passes in float32 and in
float64; every tensor must agree to max|nn - torch| <= 1e-4 * max(max|torch|, 1e-2) for both
(the floor covers tensors that are zero in exact arithmetic).

GDN/IGDN follow CompressAI: beta and gamma are stored reparametrised (NonNegativeParametrizer,
reparam_offset 2^-18, beta_min 1e-6) and norm = conv1x1(x^2, gamma) + beta. Imports are not
guarded: a missing torch fails the test instead of skipping it.
"""
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

TOL = 1e-4
PEDESTAL = (2.0**-18) ** 2


def read_ckpt(path):
    b = Path(path).read_bytes()
    assert b[:8] == b"SBNNCKPT", "bad magic"
    version, flags, size = struct.unpack_from("<IIQ", b, 8)
    assert version == 1 and flags == 0 and size == len(b), (version, flags, size, len(b))
    pos = 24
    (nmeta,) = struct.unpack_from("<I", b, pos)
    pos += 4
    meta = {}
    for _ in range(nmeta):
        (kl,) = struct.unpack_from("<I", b, pos)
        k = b[pos + 4 : pos + 4 + kl].decode()
        pos += 4 + kl
        (vl,) = struct.unpack_from("<I", b, pos)
        meta[k] = b[pos + 4 : pos + 4 + vl].decode()
        pos += 4 + vl
    (nt,) = struct.unpack_from("<I", b, pos)
    pos += 4
    tensors = {}
    for _ in range(nt):
        (nl,) = struct.unpack_from("<H", b, pos)
        name = b[pos + 2 : pos + 2 + nl].decode()
        pos += 2 + nl
        rank, dtype = b[pos], b[pos + 1]
        assert dtype == 1
        dims = struct.unpack_from("<%dI" % rank, b, pos + 2)
        pos += 2 + 4 * rank
        count = int(np.prod(dims))
        tensors[name] = np.frombuffer(b, "<f4", count, pos).reshape(dims).copy()
        pos += 4 * count
    assert pos == len(b) - 8, "trailing bytes"
    return meta, tensors


def read_io(path):
    b = Path(path).read_bytes()
    out, pos = {}, 0
    while pos < len(b):
        (nl,) = struct.unpack_from("<I", b, pos)
        name = b[pos + 4 : pos + 4 + nl].decode()
        pos += 4 + nl
        (n,) = struct.unpack_from("<I", b, pos)
        out[name] = np.frombuffer(b, "<f4", n, pos + 4).copy()
        pos += 4 + 4 * n
    return out


def reparam(p, minimum):
    bound = (minimum + PEDESTAL) ** 0.5
    return torch.clamp(p, min=bound) ** 2 - PEDESTAL  # p > bound here: same gradient as LowerBound


def gdn(x, beta_p, gamma_p, inverse):
    c = x.shape[1]
    beta = reparam(beta_p, 1e-6)
    gamma = reparam(gamma_p, 0.0).reshape(c, c, 1, 1)
    norm = F.conv2d(x * x, gamma, beta)
    return x * torch.sqrt(norm) if inverse else x * torch.rsqrt(norm)


def run_torch(params, x_np, labels, dtype):
    P = {k: torch.tensor(v, dtype=dtype, requires_grad=not k.endswith(("running_mean", "running_var")))
         for k, v in params.items()}
    results = {}
    for mode in ("train", "eval"):
        for v in P.values():
            v.grad = None
        x = torch.tensor(x_np, dtype=dtype, requires_grad=True)
        h = F.conv2d(x, P["conv1.weight"], P["conv1.bias"], stride=1, padding=1)
        h = F.batch_norm(h, P["bn1.running_mean"], P["bn1.running_var"], P["bn1.weight"],
                         P["bn1.bias"], training=(mode == "train"), momentum=0.1, eps=1e-5)
        h = F.relu(h)
        p = F.max_pool2d(h, 2, 2)
        y = F.conv2d(p, P["conv2.weight"], P["conv2.bias"], stride=2, padding=2)
        y = gdn(y, P["gdn.beta"], P["gdn.gamma"], False)
        y = F.conv_transpose2d(y, P["deconv.weight"], P["deconv.bias"], stride=2, padding=2,
                               output_padding=1)
        y = gdn(y, P["igdn.beta"], P["igdn.gamma"], True)
        z = F.avg_pool2d(p + y, 2, 2)
        logits = F.linear(z.flatten(1), P["fc.weight"], P["fc.bias"])
        loss = F.cross_entropy(logits, torch.tensor(labels, dtype=torch.long))
        loss.backward()
        results[f"{mode}.logits"] = logits.detach().numpy().ravel()
        results[f"{mode}.loss"] = np.array([loss.item()])
        results[f"{mode}.grad.input"] = x.grad.numpy().ravel()
        for k, v in P.items():
            if v.requires_grad:
                results[f"{mode}.grad.{k}"] = v.grad.numpy().ravel()
            else:  # running statistics after the pass (updated in place by batch_norm)
                results[f"{mode}.value.{k}"] = v.detach().numpy().ravel().copy()
    return results


def main():
    cli = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([cli, d], check=True)
        meta, params = read_ckpt(Path(d) / "model.ckpt")
        assert meta.get("arch") == "oracle-v1", meta
        io = read_io(Path(d) / "io.bin")
    x = io["input"].reshape(4, 3, 16, 16)
    labels = io["labels"].astype(np.int64)
    for dtype in (torch.float32, torch.float64):
        ref = run_torch(params, x, labels, dtype)
        for name, want in ref.items():
            got = io.get(name)
            if got is None:
                print(f"FAIL {name}: missing from the C output")
                failures += 1
                continue
            # A tensor that is zero in exact arithmetic (the bias of a conv feeding train-mode BN)
            # is compared with an absolute floor: max|nn - torch| <= 1e-4 * 1e-2.
            scale = max(float(np.max(np.abs(want))), 1e-2)
            err = float(np.max(np.abs(got.astype(np.float64) - want))) / scale
            ok = err <= TOL
            failures += not ok
            if not ok or dtype == torch.float64:
                print(f"{'ok  ' if ok else 'FAIL'} {str(dtype)[6:]:8s} {name:32s} rel err {err:.2e}")
    print(f"test_nn_oracle: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
