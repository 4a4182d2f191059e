#!/usr/bin/python3
"""PyTorch's epoch time for the networks scratchnet's benchmark times, on the same
machine, for the in-run comparison in the README.

    /usr/bin/python3 examples/benchmark_pytorch.py [--data DIR | --synthetic] [--threads 1,2]
        [--reps 3] [--networks lenet,mnist_cnn,resnet] [--optimizer benchmark|adam|sgd]
        [--samples mnist_cnn=7680] [--records]

Debian's python3-torch (CPU). The data are MNIST's 60,000 training images (IDX
files, raw or gzip), scaled to [0, 1], or random bytes of the same shape
(--synthetic); batch 128, shuffled, one optimizer step per batch, as scratchnet's
fit does, with the benchmark's optimizers: SGD 0.01 for the MLPs, Adam 1e-3 for
the CNNs. Like the benchmark, it runs one warm-up epoch per network and thread
setting, then times --reps epochs and prints their median, per network and
thread setting, and the best thread setting, which is what the README compares.
--samples times a network on the first N images and scales to 60,000, as the
benchmark times mnist_cnn.

--records is for examples/benchmark --pytorch, which runs this script: progress
then goes to stderr, and stdout carries only tab-separated records,

    torch   <version>
    epoch   <network> <optimizer> <threads> <samples timed> <median s per 60,000> <runs, comma-separated>
    missing <what cannot be imported>
    error   <message>

and the script exits 0 once it has said what went wrong.
"""
import argparse
import gzip
import os
import statistics
import sys
import time

TRAIN_SAMPLES = 60000
MLPS = ("784-128-10", "784-512-256-10")


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
    raise FileNotFoundError(f"no {stem}[.gz] in {directory}")


def networks():
    from pytorch_models import lenet, mlp, mnist_cnn, resnet
    return {
        # The course network and the wider MLP of the Performance table (flattened first, as
        # this script keeps images 1 x 28 x 28).
        "784-128-10": lambda: nn.Sequential(nn.Flatten(), mlp(784, 128, 10)),
        "784-512-256-10": lambda: nn.Sequential(nn.Flatten(), mlp(784, 512, 256, 10)),
        "lenet": lenet,
        "mnist_cnn": mnist_cnn,
        "resnet": resnet,
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


def parse_samples(text):
    """'mnist_cnn=7680,lenet=60000' -> {'mnist_cnn': 7680, 'lenet': 60000}."""
    samples = {}
    for item in filter(None, text.split(",")):
        name, _, count = item.partition("=")
        samples[name] = int(count)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SCRATCHNET_MNIST_DIR",
                                                         os.path.expanduser("~/.cache/scratchnet/mnist")),
                        help="MNIST directory (IDX files, raw or gzip)")
    parser.add_argument("--synthetic", action="store_true", help="random bytes of MNIST's shape instead of --data")
    parser.add_argument("--threads", default="1,2", help="comma-separated torch.set_num_threads settings")
    parser.add_argument("--reps", type=int, default=3, help="epochs timed per network and setting (median)")
    parser.add_argument("--networks", default=",".join(["784-128-10", "784-512-256-10", "lenet", "mnist_cnn", "resnet"]),
                        help="comma-separated subset")
    parser.add_argument("--optimizer", default="benchmark", choices=["benchmark", "adam", "sgd"],
                        help="benchmark: as its rows, SGD 0.01 for the MLPs and Adam for the CNNs")
    parser.add_argument("--samples", default="", type=parse_samples,
                        help="NAME=N,...: time NAME on the first N images, scaled to 60,000")
    parser.add_argument("--records", action="store_true",
                        help="tab-separated records on stdout, progress on stderr (for examples/benchmark)")
    args = parser.parse_args()
    log = sys.stderr if args.records else sys.stdout

    def record(*fields):
        if args.records:
            print("\t".join(str(f) for f in fields), flush=True)

    global np, torch, nn
    try:
        import numpy as np
        import torch
        from torch import nn
    except ImportError as e:
        if not args.records:
            raise
        record("missing", str(e).replace("\t", " ").replace("\n", " "))
        return
    record("torch", torch.__version__)

    unknown = [name for name in args.networks.split(",") if name not in networks()]
    if unknown:
        record("error", f"unknown network {', '.join(unknown)}")
        if not args.records:
            raise SystemExit(f"unknown network {', '.join(unknown)}; known: {', '.join(networks())}")
        return
    if args.synthetic:
        rng = np.random.default_rng(7)
        x = rng.integers(0, 256, size=(TRAIN_SAMPLES, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=TRAIN_SAMPLES, dtype=np.uint8)
        source = "synthetic data"
    else:
        try:
            x = read_idx(find(args.data, "train-images-idx3-ubyte"))
            y = read_idx(find(args.data, "train-labels-idx1-ubyte"))
        except (OSError, IndexError, ValueError) as e:
            record("error", f"MNIST: {e}")
            if not args.records:
                raise SystemExit(f"MNIST: {e}")
            return
        source = args.data
    images = torch.from_numpy(x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(y.astype(np.int64))
    print(f"torch {torch.__version__}, {images.shape[0]} images ({source}), batch 128, "
          f"one warm-up and the median of {args.reps} epochs", file=log, flush=True)
    for name in args.networks.split(","):
        n = min(args.samples.get(name, images.shape[0]), images.shape[0])
        scale = TRAIN_SAMPLES / n
        method = args.optimizer if args.optimizer != "benchmark" else ("sgd" if name in MLPS else "adam")
        timed_on = f", timed on {n} samples" if n != TRAIN_SAMPLES else ""
        best = None
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            epoch_seconds(networks()[name], images[:n], labels[:n], 128, method)
            times = [epoch_seconds(networks()[name], images[:n], labels[:n], 128, method) * scale
                     for _ in range(args.reps)]
            median = statistics.median(times)
            runs = ", ".join(f"{t:.3f}" for t in times)
            print(f"{name:16s} threads {threads}: {median:8.3f} s/epoch  ({method}{timed_on}; runs: {runs})",
                  file=log, flush=True)
            record("epoch", name, method, threads, n, f"{median:.6g}", ",".join(f"{t:.6g}" for t in times))
            best = median if best is None else min(best, median)
        print(f"{name:16s} best: {best:.3f} s/epoch", file=log, flush=True)


if __name__ == "__main__":
    main()
