#!/usr/bin/python3
"""PyTorch counterpart of bench_nn.c (same ResNet-20-style network, batch, threads).

usage: /usr/bin/python3 bench_torch.py [threads=2] [batch=128] [iters=5]. Not a test.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for s, w in enumerate((16, 32, 64)):
            for b in range(3):
                layers.append(Block(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def best_of(fn, iters):
    fn()
    best = 1e30
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = ResNet20()
    nparams = sum(p.numel() for p in net.parameters())
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    print(f"torch {torch.__version__} resnet20-ish: {nparams} parameters, batch {batch}, "
          f"threads {threads}, {iters} iterations")

    def train():
        net.train()
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    t = best_of(train, iters)
    print(f"train step:     {batch / t:8.1f} img/s ({t * 1e3:.1f} ms/step)")
    net.eval()
    with torch.no_grad():
        t = best_of(lambda: net(x), iters)
    print(f"inference:      {batch / t:8.1f} img/s")
    for p in net.parameters():
        p.requires_grad_(False)

    def input_grad():
        xi = x.clone().requires_grad_(True)
        F.cross_entropy(net(xi), y).backward()

    t = best_of(input_grad, iters)
    print(f"input gradient: {batch / t:8.1f} img/s")


if __name__ == "__main__":
    main()
