#!/usr/bin/python3
"""PyTorch's epoch time for the networks scratchnet's benchmark times, on the same
machine, for the in-run comparison in the README.

    /usr/bin/python3 examples/benchmark_pytorch.py [--data DIR] [--threads 1,2] [--reps 3]
        [--networks lenet,mnist_cnn] [--optimizer adam|sgd]

Debian's python3-torch (CPU). The data are MNIST's 60,000 training images (IDX
files, raw or gzip), scaled to [0, 1]; batch 128, shuffled, one optimizer step per
batch, as scratchnet's fit does (Adam, or SGD 0.01 as the benchmark's dense
rows). Prints the median epoch time per network and
thread setting, and the best thread setting, which is what the README compares.
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"no {stem}[.gz] in {directory}")


def networks():
    return {
        # The course network and the wider MLP of the Performance table.
        "784-128-10": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)),
        "784-512-256-10": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256),
                                                nn.ReLU(), nn.Linear(256, 10)),
        # LeNet-5 as scratchnet's --model lenet spells it.
        "lenet": lambda: nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                       nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                       nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                       nn.Linear(84, 10)),
        # Keras' mnist_cnn.
        "mnist_cnn": lambda: nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                                           nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128),
                                           nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10)),
    }


def epoch_seconds(make, images, labels, batch, method):
    torch.manual_seed(1)
    net = make()
    if method == "sgd":
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    order = torch.randperm(images.shape[0])
    start = time.perf_counter()
    for begin in range(0, images.shape[0], batch):
        idx = order[begin:begin + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(net(images[idx]), labels[idx])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SCRATCHNET_MNIST_DIR",
                                                         os.path.expanduser("~/.cache/scratchnet/mnist")))
    parser.add_argument("--threads", default="1,2", help="comma-separated torch.set_num_threads settings")
    parser.add_argument("--reps", type=int, default=3, help="epochs timed per network and setting (median)")
    parser.add_argument("--networks", default=",".join(networks()), help="comma-separated subset")
    parser.add_argument("--optimizer", default="adam", choices=["adam", "sgd"],
                        help="adam (as the benchmark's CNN rows) or sgd 0.01 (as its MLP rows)")
    args = parser.parse_args()

    x = read_idx(find(args.data, "train-images-idx3-ubyte"))
    y = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    images = torch.from_numpy(x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(y.astype(np.int64))
    print(f"torch {torch.__version__}, {images.shape[0]} images, batch 128, {args.optimizer}, "
          f"median of {args.reps} epochs")
    for name in args.networks.split(","):
        best = None
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            times = [epoch_seconds(networks()[name], images, labels, 128, args.optimizer) for _ in range(args.reps)]
            median = statistics.median(times)
            print(f"{name:16s} threads {threads}: {median:8.3f} s/epoch  (runs: {', '.join(f'{t:.3f}' for t in times)})",
                  flush=True)
            best = median if best is None else min(best, median)
        print(f"{name:16s} best: {best:.3f} s/epoch", flush=True)


if __name__ == "__main__":
    main()
