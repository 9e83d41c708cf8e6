#!/usr/bin/python3
"""Oracle test for metrics/: compare metrics_cli against scikit-image and scipy.

usage: /usr/bin/python3 test_metrics_oracle.py PATH/TO/metrics_cli

PSNR is compared with skimage.metrics.peak_signal_noise_ratio, SSIM with
skimage.metrics.structural_similarity (Wang et al. settings), MS-SSIM with the independent
numpy/scipy implementation below (definition in metrics/metrics.h). Both the fast (dispatched)
and the reference (--ref) paths of the CLI are checked, within 1e-4 absolute. The fast path's
values come from the combined metrics_full_rgb8, and the CLI itself fails if they are not
bit-identical to the separate fast calls.

Deliberately no try/except around the imports: if numpy, scipy or skimage is missing the test
must fail, not skip. Files are written only into a temporary directory.
"""
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

TOL = 1e-4
MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2
WIN, RADIUS, MIN_SIDE = 11, 5, 161


def ssim_and_cs(x, y):
    """Valid-region means of the SSIM and cs maps of two float64 planes.

    Moments by scipy's gaussian_filter (sigma 1.5, truncate 3.5 = 11 taps); the 5-pixel border
    where the window leaves the image is cropped, as skimage does. An axis shorter than the
    window is not smoothed and not cropped (sigma 0 makes gaussian_filter skip it), which is the
    pytorch_msssim rule metrics.h documents for the last MS-SSIM scale.
    """
    sigma = [1.5 if s >= WIN else 0.0 for s in x.shape]
    crop = [RADIUS if s >= WIN else 0 for s in x.shape]

    def filt(im):
        return ndimage.gaussian_filter(im, sigma=sigma, truncate=3.5, mode="reflect")

    ux, uy = filt(x), filt(y)
    vx = filt(x * x) - ux * ux
    vy = filt(y * y) - uy * uy
    vxy = filt(x * y) - ux * uy
    cs = (2 * vxy + C2) / (vx + vy + C2)
    ssim = (2 * ux * uy + C1) / (ux * ux + uy * uy + C1) * cs
    region = tuple(slice(c, s - c) for c, s in zip(crop, x.shape))
    return float(ssim[region].mean(dtype=np.float64)), float(cs[region].mean(dtype=np.float64))


def downsample(x):
    """2x2 box average; an odd last row/column is dropped."""
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    x = x[:h, :w]
    return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4.0


def ms_ssim_oracle(a, b):
    if min(a.shape[:2]) < MIN_SIDE:
        return math.nan
    per_channel = []
    for c in range(3):
        x = a[..., c].astype(np.float64)
        y = b[..., c].astype(np.float64)
        value = 1.0
        for j in range(5):
            ssim, cs = ssim_and_cs(x, y)
            m = cs if j < 4 else ssim
            value *= max(m, 0.0) ** MS_WEIGHTS[j]  # negative means clamped to 0
            if j < 4:
                x, y = downsample(x), downsample(y)
        per_channel.append(value)
    return float(np.mean(per_channel))


# ---- image pairs ---------------------------------------------------------------------------


def natural(rng, h, w):
    """Smooth random field plus a gradient: a stand-in for photographic content."""
    field = ndimage.gaussian_filter(rng.normal(0, 1, (h, w, 3)), sigma=(4, 4, 0))
    field /= field.std() + 1e-12
    grad = np.linspace(-40, 40, w)[None, :, None] + np.linspace(-30, 30, h)[:, None, None]
    return np.clip(128 + 45 * field + grad, 0, 255)


def u8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def make_pairs():
    rng = np.random.RandomState(20240601)
    pairs = []

    def add(name, a, b):
        pairs.append((name, u8(a), u8(b)))

    sizes = [(32, 32), (11, 11), (33, 47), (48, 64), (256, 256), (161, 161), (170, 300),
             (300, 165), (200, 180)]
    for h, w in sizes:
        base = natural(rng, h, w)
        add(f"noise {h}x{w}", rng.randint(0, 256, (h, w, 3)), rng.randint(0, 256, (h, w, 3)))
        add(f"noisy-copy-5 {h}x{w}", base, base + rng.normal(0, 5, base.shape))
        add(f"noisy-copy-25 {h}x{w}", base, base + rng.normal(0, 25, base.shape))
        g = (np.linspace(0, 255, w)[None, :, None] * np.linspace(0.2, 1, h)[:, None, None]
             * np.array([1.0, 0.8, 0.6]))
        add(f"gradient {h}x{w}", g, g + rng.normal(0, 2, g.shape))
        blocky = u8(base).astype(np.float64)
        for i in range(0, h, 8):
            for j in range(0, w, 8):
                blocky[i:i + 8, j:j + 8] = blocky[i:i + 8, j:j + 8].mean(axis=(0, 1))
        add(f"blocky {h}x{w}", base, blocky)
        add(f"quantized {h}x{w}", base, (u8(base) // 32) * 32 + 16)
        add(f"inverted {h}x{w}", base, 255 - base)
        add(f"flat {h}x{w}", np.full((h, w, 3), 255.0), np.full((h, w, 3), 250.0))
        add(f"identical {h}x{w}", base, base)
    # Kodak size, the benchmark's other case.
    base = natural(rng, 512, 768)
    add("noisy-copy-8 512x768", base, base + rng.normal(0, 8, base.shape))
    add("quantized 512x768", base, (u8(base) // 16) * 16 + 8)
    return pairs


# ---- driver --------------------------------------------------------------------------------


def run_cli(cli, ref, w, h, pa, pb):
    cmd = [cli] + (["--ref"] if ref else []) + [str(w), str(h), str(pa), str(pb)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    vals = {}
    for line in out.splitlines():
        key, val = line.split()
        vals[key] = val if key == "kernel" else float(val)
    return vals


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cli = sys.argv[1]
    failures = []
    maxdiff = {"psnr": 0.0, "ssim": 0.0, "ms_ssim": 0.0, "oracle_ssim_vs_skimage": 0.0}

    def check(name, what, got, want):
        if math.isnan(want):
            ok = math.isnan(got)
        else:
            ok = not math.isnan(got) and abs(got - want) <= TOL
            maxdiff[what] = max(maxdiff[what], abs(got - want))
        if not ok:
            failures.append(f"{name}: {what} got {got!r} want {want!r}")

    pairs = make_pairs()
    kernel = None
    with tempfile.TemporaryDirectory(prefix="metrics_oracle_") as tmp:
        pa, pb = Path(tmp) / "a.rgb", Path(tmp) / "b.rgb"
        for name, a, b in pairs:
            h, w = a.shape[:2]
            pa.write_bytes(a.tobytes())
            pb.write_bytes(b.tobytes())

            want_ssim = float(structural_similarity(
                a, b, channel_axis=2, gaussian_weights=True, sigma=1.5,
                use_sample_covariance=False, data_range=255))
            # The oracle's own SSIM must match skimage too (guards the oracle itself).
            own = np.mean([ssim_and_cs(a[..., c].astype(np.float64),
                                       b[..., c].astype(np.float64))[0] for c in range(3)])
            check(name, "oracle_ssim_vs_skimage", float(own), want_ssim)
            want_ms = ms_ssim_oracle(a, b)
            if np.array_equal(a, b):
                want_psnr = 100.0
            else:
                want_psnr = float(peak_signal_noise_ratio(a, b, data_range=255))
                want_psnr = min(want_psnr, 100.0)

            for ref in (False, True):
                got = run_cli(cli, ref, w, h, pa, pb)
                if not ref:
                    kernel = got["kernel"]
                tag = f"{name} [{got['kernel']}]"
                check(tag, "psnr", got["psnr"], want_psnr)
                check(tag, "ssim", got["ssim"], want_ssim)
                check(tag, "ms_ssim", got["ms_ssim"], want_ms)

    print(f"{len(pairs)} image pairs, fast kernel set '{kernel}' and reference, tolerance {TOL}")
    for k, v in maxdiff.items():
        print(f"  max |diff| {k}: {v:.3e}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
