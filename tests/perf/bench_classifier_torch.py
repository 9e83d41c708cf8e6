#!/usr/bin/python3
"""PyTorch twin of bench_classifier.c: the registry classifier architectures of
tasks/classifier.c with identical layer shapes, and the same three measures (images/s over
--steps timed iterations after --warmup untimed ones):

  train  forward (train mode) + cross-entropy + backward + SGD step (momentum 0.9, Nesterov,
         weight decay 5e-4, lr 0.05, as in bench_classifier.c)
  infer  eval-mode forward + softmax, under torch.no_grad()
  igrad  gradient w.r.t. the input through the frozen network (parameters requires_grad False)
         in eval mode: forward + cross-entropy + backward

Output: '#' lines for people, then one machine-readable line per item, as bench_classifier:
  torch ARCH params N
  torch ARCH train|infer|igrad IMG_PER_S
(label "torch-cl" with --channels-last). --jit measures inference only, on the network traced
(torch.jit.trace) and frozen (torch.jit.freeze: eval-mode BN folded into the convolutions,
weights pre-packed once), NCHW, label "torch-jit" (train and igrad are not run: a frozen graph
has no parameters to train). --expect-params N fails unless the parameter count is
N (the driver passes the C network's count).

Run with Debian's /usr/bin/python3 (python3-torch). Set OPENBLAS_NUM_THREADS=1 (and
OMP_NUM_THREADS=threads) in the environment before starting it: the BLAS thread pool is
created at import, before torch.set_num_threads can act. bench_vs_torch.py does this.
Not a test: run it on a quiet machine.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """tasks/classifier.c basic_block: conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class CifarResNet(nn.Module):
    """tasks/classifier.c cifar_resnet: stem conv3x3, three stages of `blocks` basic blocks at
    width, 2*width, 4*width (stride 2 at the start of stages 2 and 3), GAP, linear."""

    def __init__(self, num_classes=10, width=16, blocks=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=1e-5, momentum=0.1)
        cin = width
        for s in range(3):
            layer = []
            for b in range(blocks):
                layer.append(BasicBlock(cin, width << s, 2 if s > 0 and b == 0 else 1))
                cin = width << s
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
        self.fc = nn.Linear(cin, num_classes, bias=True)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class VggS(nn.Module):
    """tasks/classifier.c build_vgg_s: three stages of 2x conv3x3(no bias)-BN-ReLU at
    32/64/128 channels, each followed by 2x2 max pooling (stride 2), GAP, linear."""

    def __init__(self, num_classes=10):
        super().__init__()
        layers, cin = [], 3
        for w in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(cin, w, 3, 1, 1, bias=False),
                           nn.BatchNorm2d(w, eps=1e-5, momentum=0.1), nn.ReLU(inplace=True)]
                cin = w
            layers.append(nn.MaxPool2d(2, 2, 0))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes, bias=True)

    def forward(self, x):
        x = self.features(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


ARCHS = {
    "resnet20-w16": lambda: CifarResNet(10, 16, 3),
    "resnet32-w16": lambda: CifarResNet(10, 16, 5),
    "vgg-s": VggS,
}


def timed(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="resnet20-w16", choices=sorted(ARCHS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--channels-last", action="store_true",
                    help="use torch.channels_last memory format (label torch-cl)")
    ap.add_argument("--jit", action="store_true",
                    help="inference only, on a traced and frozen graph (label torch-jit)")
    ap.add_argument("--expect-params", type=int, default=None,
                    help="fail unless the network has this many trainable parameters")
    a = ap.parse_args()
    if a.threads < 1 or a.batch < 1 or a.steps < 1 or a.warmup < 0:
        ap.error("threads, batch, steps must be >= 1 and warmup >= 0")
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("# warning: OPENBLAS_NUM_THREADS is not 1 in the environment", file=sys.stderr)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.jit and a.channels_last:
        ap.error("--jit runs NCHW: drop --channels-last")
    label = "torch-cl" if a.channels_last else "torch-jit" if a.jit else "torch"
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = ARCHS[a.arch]().to(memory_format=fmt)
    nparams = sum(p.numel() for p in net.parameters())
    layout = ("channels_last" if a.channels_last else
              "NCHW, traced and frozen graph" if a.jit else "NCHW")
    print(f"# bench_classifier_torch (torch {torch.__version__}, mkldnn "
          f"{torch.backends.mkldnn.is_available()}, {layout}): arch {a.arch}, {nparams} "
          f"parameters, threads {torch.get_num_threads()}, batch {a.batch}, {a.steps} timed "
          f"steps after {a.warmup} warm-up")
    print(f"{label} {a.arch} params {nparams}", flush=True)
    if a.expect_params is not None and nparams != a.expect_params:
        print(f"bench_classifier_torch: {a.arch} has {nparams} parameters, expected "
              f"{a.expect_params}", file=sys.stderr)
        return 1

    x = torch.randn(a.batch, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)

    def train():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()

    def infer():
        with torch.no_grad():
            torch.softmax(net(x), 1)

    xi = x.clone().requires_grad_(True)

    def igrad():
        xi.grad = None
        F.cross_entropy(net(xi), y).backward()
        assert xi.grad is not None

    def report(name, t):
        print(f"# {name}: {a.steps} steps in {t:.3f} s, {1e3 * t / a.steps:.2f} ms/step")
        print(f"{label} {a.arch} {name} {a.batch * a.steps / t:.1f}", flush=True)

    if a.jit:
        # BN's running statistics as one training step leaves them, so the fold is not trivial.
        net.train()
        train()
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            frozen = torch.jit.freeze(torch.jit.trace(net, x))
            dev = (frozen(x) - net(x)).abs().max().item()
        if not dev <= 1e-3:
            print(f"bench_classifier_torch: the frozen graph differs from the network by {dev}",
                  file=sys.stderr)
            return 1

        def infer_frozen():
            with torch.no_grad():
                torch.softmax(frozen(x), 1)

        report("infer", timed(infer_frozen, a.steps, a.warmup))
        return 0
    net.train()
    report("train", timed(train, a.steps, a.warmup))
    net.eval()
    report("infer", timed(infer, a.steps, a.warmup))
    for p in net.parameters():
        p.requires_grad_(False)
    report("igrad", timed(igrad, a.steps, a.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
