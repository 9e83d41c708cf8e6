#!/usr/bin/python3
"""What limits a SAIC codec at low rate: two measurements on its rounded latents.

For CIFAR-10 test images (every K-th file, sorted by path) at the given knobs, through the
PyTorch twin of the codec's networks (tests/perf/bench_saic_torch.py, weights from the codec
checkpoint; the density with the codec's bin widths 1 / gain):

  factorized   mean bits per image of the rounded symbols under the model's factorized prior
               (the codec's stream spends this, within the integer tables' precision)
  bound        mean over images of sum over channels of 16 x H(the image's own histogram of
               that channel's 16 symbols): what a model that knew each image's per-channel
               symbol distribution for free would spend. An optimistic bound for any
               per-image adaptive entropy model (a hyperprior, a context model) before its
               side information.
  two-part     an adaptive code that exists: per image and channel, one bit-count-free flag
               "active" (coded with that channel's activity frequency over these images, as in
               side), and for an active channel its distinct values (each with 2 + 2 log2 |v|
               bits, an Elias-gamma-like code of the magnitude plus a sign), their counts among
               the 16 positions (log2 C(16 + K - 1, K - 1)) and the positions given the counts
               (log2 of the multinomial 16! / prod n_k!). Achievable to within a few bits of
               arithmetic-coder overhead per image; it beats the factorized prior where
               per-image adaptation pays.
  histogram    a factorized prior fitted to this knob alone: per channel, the histogram of the
               symbols of the other half of the images (cross-fitted: even images coded with the
               odd images' histograms and back; add-1/2 smoothing over the values seen in either
               half, the factorized prior's probability for values seen in neither). What a
               density per rate (instead of one density scaled by the gains) could save at most.
  side         what telling the decoder which channels are active costs at least, with each
               channel's activity coded by its own frequency over these images (sum over
               channels of the binary entropy): the part of any adaptive model's side
               information that names the active set; bound + side is a fairer target.
  active       channels with a nonzero symbol, and nonzero symbols, per image.

--rdoq also runs a greedy rate-distortion search over the symbols (an encoder-only change: the
decoder and the stream format stay): each nonzero symbol in turn is moved one step toward 0 and
kept where bits/1024 + lam_mult * lambda(knob) * 255^2 * MSE (after 8-bit rounding) falls, and
prints bits per pixel and PSNR before and after.

Run with Debian's /usr/bin/python3 (python3-torch, python3-pil, python3-numpy); one thread.
Not a test: docs/results.md quotes its output.
"""
import argparse
import collections
import glob
import math
import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "perf"))
sys.path.insert(0, os.path.join(ROOT, "tests", "nn"))
from bench_saic_torch import Saic  # noqa: E402
from test_nn_oracle import read_ckpt  # noqa: E402

# Offsets of one channel's 43 density parameters (codecs/saic/saic.h, SAIC_DENSITY_*): name,
# start, shape (out, in).
DENSITY_LAYOUT = [("H.0", 0, (3, 1)), ("b.0", 3, (3, 1)), ("a.0", 6, (3, 1)),
                  ("H.1", 9, (3, 3)), ("b.1", 18, (3, 1)), ("a.1", 21, (3, 1)),
                  ("H.2", 24, (3, 3)), ("b.2", 33, (3, 1)), ("a.2", 36, (3, 1)),
                  ("H.3", 39, (1, 3)), ("b.3", 42, (1, 1))]


def load_model(path):
    meta, t = read_ckpt(path)
    if meta.get("arch") != "saic-codec" or meta.get("film", "0") != "0":
        sys.exit(f"{path}: not a plain SAIC codec checkpoint (arch {meta.get('arch')})")
    n, m, levels = int(meta["n"]), int(meta["m"]), int(meta["levels"])
    model = Saic(n, m, levels)
    sd = {k.split(".", 1)[1]: torch.tensor(v) for k, v in t.items()
          if k.startswith("enc.g_a") or k.startswith("dec.g_s")}
    sd["gain"] = torch.tensor(t["enc.gain"])
    sd["inv_gain"] = torch.tensor(t["dec.inv_gain"])
    dens = t["dec.density"]
    for name, start, shape in DENSITY_LAYOUT:
        size = shape[0] * shape[1]
        sd["density." + name] = torch.tensor(dens[:, start:start + size]).reshape(m, *shape)
    model.load_state_dict(sd, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, [float(v) for v in meta["lambda"].split(",")]


def lambda_at(lams, r):
    L = len(lams)
    if L == 1:
        return lams[0]
    r = min(max(r, 0.0), L - 1.0)
    l0 = min(int(r), L - 2)
    t = r - l0
    return math.exp((1 - t) * math.log(lams[l0]) + t * math.log(lams[l0 + 1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "codecs/saic/models/saic_mse.ckpt"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--images", type=int, default=500, help="evenly spaced test images")
    ap.add_argument("--knobs", default="0.875,1,1.125")
    ap.add_argument("--rdoq", action="store_true", help="also run the greedy symbol search")
    ap.add_argument("--lam-mult", type=float, default=4.0,
                    help="--rdoq: factor on the knob's training lambda")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, lams = load_model(a.model)
    files = sorted(glob.glob(os.path.join(a.data, "cifar10", "test", "*", "*.jpg")))
    if not files or a.images < 1:
        sys.exit(f"no CIFAR-10 test images under {a.data}/cifar10/test")
    files = files[::max(1, len(files) // a.images)][:a.images]
    x = torch.tensor(np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files]))
    x = x.permute(0, 3, 1, 2).float() / 255
    npx = x.shape[2] * x.shape[3]

    def bits(sym, step):
        return torch.stack([model.density.bits(sym[i:i + 1], step) for i in range(sym.shape[0])])

    def mse8(xh, ref):
        q = torch.round(torch.clamp(xh, 0, 1) * 255) / 255
        return ((q - ref) ** 2).mean(dim=(1, 2, 3))

    print(f"# {a.model}: {len(files)} images")
    for r in [float(k) for k in a.knobs.split(",")]:
        g, ig = model.gains(r)
        step = (1 / g).view(-1)
        with torch.no_grad():
            sym = torch.round(model.g_a(x) * g)
            fb = bits(sym, step)
            base_mse = mse8(model.g_s(sym * ig), x)
        s = sym.numpy().astype(np.int64)
        bound, active, nonzero, twopart = 0.0, 0, 0, 0.0
        for i in range(s.shape[0]):
            for c in range(s.shape[1]):
                v = s[i, c].ravel()
                cnt = np.array(list(collections.Counter(v.tolist()).values()), float)
                bound += -(cnt * np.log2(cnt / cnt.sum())).sum()
                active += int((v != 0).any())
                if (v != 0).any():
                    vals = collections.Counter(v.tolist())
                    K = len(vals)
                    twopart += sum(2 + 2 * math.log2(abs(u)) if u else 1 for u in vals)
                    twopart += math.log2(math.comb(v.size + K - 1, K - 1))
                    twopart += math.log2(math.factorial(v.size)) - sum(
                        math.log2(math.factorial(n)) for n in vals.values())
                nonzero += int((v != 0).sum())
        B = s.shape[0]
        hist_bits = 0.0
        with torch.no_grad():
            for half in (0, 1):
                fit, code = s[1 - half::2], s[half::2]
                for c in range(s.shape[1]):
                    fv = collections.Counter(fit[:, c].ravel().tolist())
                    cv = collections.Counter(code[:, c].ravel().tolist())
                    support = set(fv) | set(cv)
                    total = sum(fv.values()) + 0.5 * len(support)
                    for v, n in cv.items():
                        if v in fv:
                            p = (fv[v] + 0.5) / total
                        else:  # unseen in the fitting half: the trained density's probability
                            one = torch.zeros(1, s.shape[1], 1, 1)
                            one[0, c, 0, 0] = v
                            lo = model.density.bits(one, step)
                            zero = model.density.bits(torch.zeros_like(one), step)
                            p = min(0.5 / total, 2.0 ** -float(lo - zero))
                        hist_bits += -n * math.log2(p)
        hist_bits /= B
        pact = (s != 0).reshape(B, s.shape[1], -1).any(axis=2).mean(axis=0)
        pact = pact[(pact > 0) & (pact < 1)]
        side = float(-(pact * np.log2(pact) + (1 - pact) * np.log2(1 - pact)).sum())
        twopart = twopart / B + side
        psnr0 = (10 * torch.log10(1 / base_mse)).mean()
        print(f"knob {r:g}: {fb.mean() / npx:.4f} bpp, PSNR {psnr0:.3f} dB; factorized "
              f"{fb.mean():.1f} bits/image, histogram {hist_bits:.1f}, bound {bound / B:.1f}, side {side:.1f}, two-part {twopart:.1f}, active channels "
              f"{active / B:.1f}, nonzero symbols {nonzero / B:.1f}", flush=True)
        if not a.rdoq:
            continue
        lam = a.lam_mult * lambda_at(lams, r) * 255 ** 2
        out = sym.clone()
        with torch.no_grad():
            for i in range(B):
                cur = out[i:i + 1]
                j = model.density.bits(cur, step) / npx + lam * mse8(model.g_s(cur * ig),
                                                                      x[i:i + 1])[0]
                for (c, h, w) in torch.nonzero(cur[0]).tolist():
                    t = cur.clone()
                    t[0, c, h, w] -= torch.sign(t[0, c, h, w])
                    jt = model.density.bits(t, step) / npx + lam * mse8(model.g_s(t * ig),
                                                                         x[i:i + 1])[0]
                    if jt < j:
                        cur, j = t, jt
                out[i:i + 1] = cur
            rb = bits(out, step)
            psnr1 = (10 * torch.log10(1 / mse8(model.g_s(out * ig), x))).mean()
        print(f"  rdoq (lambda x{a.lam_mult:g}): {rb.mean() / npx:.4f} bpp, PSNR {psnr1:.3f} dB",
              flush=True)


if __name__ == "__main__":
    main()
