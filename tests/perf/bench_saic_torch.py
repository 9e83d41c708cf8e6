#!/usr/bin/python3
"""PyTorch twin of bench_saic.c: the SAIC factorized-prior model of codecs/saic/saic_model.c
with identical layer shapes and parameter count, random weights, and the same measures:

  encode-32x32       images/s, one 32x32 image per call: g_a + gain multiply + rounding
  decode-32x32       images/s, one latent per call: inverse-gain multiply + g_s
  encode-768x512-ms  ms for one 768x512 image (best of --big-reps after one warm-up call)
  decode-768x512-ms  ms, the same
  train-b32          images/s of a training step at --batch (32) on 32x32 images, the loss of
                     train/saic_train.c (docs/method.md) with the full SAIC settings:
                     gain, additive uniform noise, factorized-prior rate of the noisy latent
                     (CompressAI EntropyBottleneck logic written out, bin width 1/gain), inverse
                     gain, g_s; the frozen ResNet-20 (bench_classifier_torch.py, eval mode, random
                     weights) run forward on x_hat and backward to its pixels ONCE: that gradient
                     g gives the GSW map (alpha 0.5, 3x3 box smoothing with edge clamping,
                     normalised to mean 1 per image) and, as gamma * g, the task term's gradient
                     (gamma 0.03; as saic_train.c does, no second classifier pass); MSE weighted
                     by W; then one Adam step (lr 3e-4; density and gains x10). Levels
                     round-robin.

The 32x32 measures run for --seconds each after 5 untimed calls, round-robin over 16 random
images; inference runs under torch.inference_mode(). Entropy coding is not timed here (the C
side's label "c" includes it, "c-net" does not).

  g_a: conv5x5/2 (3 -> N, pad 2), GDN, conv5x5/2 (N -> N), GDN, conv5x5/2 (N -> M)
  g_s: convT5x5/2 (M -> N, pad 2, output_padding 1), IGDN, convT (N -> N), IGDN, convT (N -> 3)
  GDN: y = x / sqrt(beta + gamma x^2) per pixel over channels (IGDN multiplies), beta and gamma
  through CompressAI's non-negative reparametrisation (nn/README.md).

--channels-last runs the same model (same seed, weights and parameter count) in
torch.channels_last memory format: the model (codec and frozen classifier) is converted with
model.to(memory_format=torch.channels_last) and every 4-D input with
x.contiguous(memory_format=torch.channels_last); results are labelled "torch-cl" instead of
"torch". (With Debian's torch 1.13 the CPU ConvTranspose2d returns NCHW outputs whatever its
input's format, so in g_s only the first deconvolution reads channels_last data; that is how
torch runs this model in channels_last, and it is timed as it is.)

--jit runs the inference measures on graphs made for inference: g_a and g_s traced
(torch.jit.trace, on a 32x32 image and its latent) and frozen (torch.jit.freeze: weights become
constants, which lets torch pre-pack them for oneDNN once instead of on every call); results are
labelled "torch-jit"; NCHW; the training step is not run (a frozen graph does not train). The
traced graphs give the eager model's outputs (checked at start: max difference <= 1e-4).

Output: '#' lines for people, then one machine-readable line per item, as bench_saic:
  torch saic params N
  torch saic MEASURE VALUE
(label "torch-cl" with --channels-last). --expect-params N fails unless the parameter count is N
(the driver passes the C model's).

Run with Debian's /usr/bin/python3 (python3-torch). Set OPENBLAS_NUM_THREADS=1 (and
OMP_NUM_THREADS=threads) in the environment before starting it: the BLAS thread pool is
created at import, before torch.set_num_threads can act. bench_saic_vs_torch.py does this.
Not a test: run it on a quiet machine.
"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_classifier_torch import CifarResNet  # noqa: E402

PEDESTAL = 2.0 ** -36  # (2^-18)^2, CompressAI's reparam_offset squared
BETA_MIN = 1e-6


class GDN(nn.Module):
    """nn_gdn: norm_i = beta_i + sum_j gamma_ij x_j^2; GDN x / sqrt(norm), IGDN x * sqrt(norm).
    Stored parameters reparametrised: beta_eff = max(beta, sqrt(1e-6 + ped))^2 - ped,
    gamma_eff = max(gamma, sqrt(ped))^2 - ped; initialised to beta_eff 1, gamma_eff 0.1 I."""

    def __init__(self, ch, inverse):
        super().__init__()
        self.inverse = inverse
        self.beta = nn.Parameter(torch.sqrt(torch.ones(ch) + PEDESTAL))
        self.gamma = nn.Parameter(torch.sqrt(0.1 * torch.eye(ch) + PEDESTAL))
        self.beta_bound = math.sqrt(BETA_MIN + PEDESTAL)
        self.gamma_bound = math.sqrt(PEDESTAL)

    def forward(self, x):
        beta = torch.clamp_min(self.beta, self.beta_bound) ** 2 - PEDESTAL
        gamma = torch.clamp_min(self.gamma, self.gamma_bound) ** 2 - PEDESTAL
        norm = F.conv2d(x * x, gamma[:, :, None, None], beta)
        return x * torch.sqrt(norm) if self.inverse else x / torch.sqrt(norm)


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 5, stride=2, padding=2)


def deconv(cin, cout):
    return nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)


class Density(nn.Module):
    """The factorized prior of codecs/saic/saic_density.h (CompressAI's EntropyBottleneck with
    filters (3, 3, 3)): per channel c(x) = sigmoid(f4(f3(f2(f1(x))))), f_k(v) = softplus(H_k) v
    + b_k, then v + tanh(a_k) tanh(v) for k < 4; widths 1 -> 3 -> 3 -> 3 -> 1 (43 parameters per
    channel). Computed in float32 (the C side computes in double)."""

    def __init__(self, m, init_scale=10.0):
        super().__init__()
        filters = (1, 3, 3, 3, 1)
        scale = init_scale ** (1 / (len(filters) - 1))
        self.H, self.b, self.a = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for k in range(len(filters) - 1):
            init = math.log(math.expm1(1 / scale / filters[k + 1]))
            self.H.append(nn.Parameter(torch.full((m, filters[k + 1], filters[k]), init)))
            self.b.append(nn.Parameter(torch.rand(m, filters[k + 1], 1) - 0.5))
            if k < len(filters) - 2:
                self.a.append(nn.Parameter(torch.zeros(m, filters[k + 1], 1)))

    def logits(self, v):  # v: [M, 1, K]
        for k in range(len(self.H)):
            v = torch.matmul(F.softplus(self.H[k]), v) + self.b[k]
            if k < len(self.a):
                v = v + torch.tanh(self.a[k]) * torch.tanh(v)
        return v

    def bits(self, y, step):
        """-sum log2 max(likelihood, 1e-9) of y [B, M, h, w], symbol x covering
        [(x - 1/2) step_c, (x + 1/2) step_c] of the density's variable."""
        m = y.shape[1]
        v = y.transpose(0, 1).reshape(m, 1, -1)
        s = step.view(m, 1, 1)
        lo = self.logits((v - 0.5) * s)
        up = self.logits((v + 0.5) * s)
        # CompressAI's -sign(lo + up) is 0 where lo + up == 0 (a symbol 0 of a bin symmetric
        # about the median), which zeroes that likelihood: take either side there.
        sign = torch.where(lo + up > 0, -1.0, 1.0).detach()
        lik = torch.abs(torch.sigmoid(sign * up) - torch.sigmoid(sign * lo))
        # The C side's floor passes gradients through (LowerBound); clamp_min costs the same.
        return -torch.log2(torch.clamp_min(lik, 1e-9)).sum()


class Saic(nn.Module):
    """codecs/saic/saic_model.c: g_a, g_s, per-level gains (log domain) and the density."""

    def __init__(self, n=64, m=96, levels=4):
        super().__init__()
        self.g_a = nn.Sequential(conv(3, n), GDN(n, False), conv(n, n), GDN(n, False), conv(n, m))
        self.g_s = nn.Sequential(deconv(m, n), GDN(n, True), deconv(n, n), GDN(n, True),
                                 deconv(n, 3))
        # PyTorch's default conv initialisation, as saic_model_create; gains as its spread.
        spread = torch.tensor([float(l) - 0.5 * (levels - 1) for l in range(levels)])
        self.gain = nn.Parameter(spread[:, None].repeat(1, m))
        self.inv_gain = nn.Parameter(-spread[:, None].repeat(1, m))
        self.density = Density(m)
        self.levels = levels

    def gains(self, r):
        """saic_model_gains: exp of the interpolated log gains at knob r, as [1, M, 1, 1]."""
        L = self.levels
        r = min(max(r, 0.0), L - 1.0)
        lo = min(int(math.floor(r)), max(L - 2, 0))
        t = r - lo if L > 1 else 0.0
        hi = lo + 1 if L > 1 else lo
        g = torch.exp((1 - t) * self.gain[lo] + t * self.gain[hi])
        ig = torch.exp((1 - t) * self.inv_gain[lo] + t * self.inv_gain[hi])
        return g.detach().view(1, -1, 1, 1), ig.detach().view(1, -1, 1, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0,
                    help="duration of each 32x32 measure")
    ap.add_argument("--big-reps", type=int, default=3,
                    help="timed 768x512 calls (best of) after one warm-up")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--m", type=int, default=96)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--channels-last", action="store_true",
                    help="use torch.channels_last memory format (label torch-cl)")
    ap.add_argument("--jit", action="store_true",
                    help="inference on traced, frozen graphs (label torch-jit; no training step)")
    ap.add_argument("--expect-params", type=int, default=None,
                    help="fail unless the model has this many trainable parameters")
    a = ap.parse_args()
    if (a.threads < 1 or a.big_reps < 1 or a.batch < 1 or a.steps < 1 or a.warmup < 0
            or not a.seconds > 0 or a.n < 1 or a.m < 1 or a.levels < 1):
        ap.error("threads, big-reps, batch, steps, n, m, levels must be >= 1, warmup >= 0 and "
                 "seconds > 0")
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("# warning: OPENBLAS_NUM_THREADS is not 1 in the environment", file=sys.stderr)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.jit and a.channels_last:
        ap.error("--jit runs NCHW: drop --channels-last")
    label = "torch-cl" if a.channels_last else "torch-jit" if a.jit else "torch"
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    layout = ("channels_last" if a.channels_last else
              "NCHW, traced and frozen graphs" if a.jit else "NCHW")
    model = Saic(a.n, a.m, a.levels).to(memory_format=fmt)
    nparams = sum(p.numel() for p in model.parameters())
    rate = (a.levels - 1) / 2.0
    print(f"# bench_saic_torch (torch {torch.__version__}, mkldnn "
          f"{torch.backends.mkldnn.is_available()}, {layout}): model random, n {a.n} m {a.m} "
          f"levels {a.levels}, {nparams} parameters, threads {torch.get_num_threads()}, rate "
          f"{rate:g}")
    print(f"# 32x32 items run {a.seconds:g} s each (16 random images, batch 1), 768x512 items "
          f"best of {a.big_reps}; networks only (no entropy coding)")
    print(f"{label} saic params {nparams}", flush=True)
    if a.expect_params is not None and nparams != a.expect_params:
        print(f"bench_saic_torch: the model has {nparams} parameters, expected "
              f"{a.expect_params}", file=sys.stderr)
        return 1

    g, ig = model.gains(rate)
    for p in model.parameters():
        p.requires_grad_(False)
    small = [x.contiguous(memory_format=fmt) for x in torch.rand(16, 1, 3, 32, 32)]
    big = torch.rand(1, 3, 512, 768).contiguous(memory_format=fmt)
    sym_small = [None] * 16
    state = {"k": 0, "big_sym": None}

    g_a, g_s = model.g_a, model.g_s
    if a.jit:
        with torch.no_grad():
            y0 = g_a(small[0])
            g_a = torch.jit.freeze(torch.jit.trace(model.g_a.eval(), small[0]))
            g_s = torch.jit.freeze(torch.jit.trace(model.g_s.eval(), torch.round(y0)))
            dev = max((g_a(small[1]) - model.g_a(small[1])).abs().max().item(),
                      (g_s(torch.round(y0)) - model.g_s(torch.round(y0))).abs().max().item())
        if not dev <= 1e-4:
            print(f"bench_saic_torch: the traced graphs differ from the model by {dev}",
                  file=sys.stderr)
            return 1

    def encode(x):
        return torch.round(g_a(x) * g)

    def decode(sym):
        return g_s(sym * ig)

    def enc32():
        k = state["k"] % 16
        sym_small[k] = encode(small[k])
        state["k"] += 1

    def dec32():
        k = state["k"] % 16
        decode(sym_small[k])
        state["k"] += 1

    def enc_big():
        state["big_sym"] = encode(big)

    def dec_big():
        decode(state["big_sym"])

    def per_second(fn):
        for _ in range(5):
            fn()
        reps, t0 = 0, time.perf_counter()
        while True:
            fn()
            reps += 1
            t = time.perf_counter() - t0
            if t >= a.seconds and reps >= 10:
                return reps / t

    def best_ms(fn):
        fn()
        best = math.inf
        for _ in range(a.big_reps):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return 1e3 * best

    with torch.inference_mode():
        for name, fn in (("encode-32x32", enc32), ("decode-32x32", dec32)):
            state["k"] = 0
            print(f"{label} saic {name} {per_second(fn):.1f}", flush=True)
        for name, fn in (("encode-768x512-ms", enc_big), ("decode-768x512-ms", dec_big)):
            print(f"{label} saic {name} {best_ms(fn):.2f}", flush=True)
    if a.no_train or a.jit:
        return 0

    # Training step (saic_train.c with the full SAIC settings).
    for p in model.parameters():
        p.requires_grad_(True)
    clf = CifarResNet(10, 16, 3).to(memory_format=fmt).eval()
    for p in clf.parameters():
        p.requires_grad_(False)
    mean = torch.tensor([0.4913, 0.4821, 0.4465]).view(1, 3, 1, 1).contiguous(memory_format=fmt)
    std = torch.tensor([0.2452, 0.2428, 0.2606]).view(1, 3, 1, 1).contiguous(memory_format=fmt)
    alpha, gamma, lam = 0.5, 0.03, 1.8e-4 * 255.0 ** 2
    B = a.batch
    x = torch.rand(B, 3, 32, 32).contiguous(memory_format=fmt)
    labels = torch.randint(0, 10, (B,))
    npx = 32.0 * 32.0
    dens = list(model.density.parameters())
    gains = [model.gain, model.inv_gain]
    ids = {id(p) for p in dens + gains}
    rest = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.Adam([{"params": rest, "lr": 3e-4}, {"params": dens, "lr": 3e-3},
                            {"params": gains, "lr": 3e-3}], lr=3e-4, betas=(0.9, 0.999),
                           eps=1e-8)
    step_no = [0]

    def train():
        level = step_no[0] % a.levels
        step_no[0] += 1
        opt.zero_grad(set_to_none=True)
        y = model.g_a(x)
        ys = y * torch.exp(model.gain[level]).view(1, -1, 1, 1)
        yt = ys + torch.empty_like(ys).uniform_(-0.5, 0.5)
        bits = model.density.bits(yt, torch.exp(-model.gain[level]))
        xh = model.g_s(yt * torch.exp(model.inv_gain[level]).view(1, -1, 1, 1))
        # One classifier forward + backward to the pixels of x_hat (frozen, eval mode).
        xd = xh.detach().requires_grad_(True)
        ce = F.cross_entropy(clf((xd - mean) / std), labels, reduction="sum")
        (gx,) = torch.autograd.grad(ce, xd)
        s = gx.abs().sum(1, keepdim=True)
        s = F.avg_pool2d(F.pad(s, (1, 1, 1, 1), mode="replicate"), 3, 1)
        sm = s.mean((2, 3), keepdim=True)
        w = torch.where(sm > 0, s / sm, torch.ones_like(s))
        W = (1 - alpha) + alpha * w  # a constant in the backward pass
        D = (W * (xh - x) ** 2).mean()
        # gamma * CE's gradient w.r.t. x_hat is gamma * gx / B: a surrogate term carries it.
        loss = bits / (B * npx) + lam * D + gamma * (gx * xh).sum() / B
        loss.backward()
        opt.step()
        return ce.item()

    model.train()
    for _ in range(a.warmup):
        train()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        train()
    t = time.perf_counter() - t0
    print(f"# train: batch {B}, alpha {alpha} gamma {gamma}, GSW on x_hat (smooth 3), noise, "
          f"Adam; {a.steps} steps in {t:.3f} s after {a.warmup} warm-up, "
          f"{1e3 * t / a.steps:.2f} ms/step")
    print(f"{label} saic train-b{B} {B * a.steps / t:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
