#!/usr/bin/python3
"""The PyTorch side of examples/from_pytorch.cpp: LeNet-5 trained in PyTorch,
read by scratchnet, and back.

    from_pytorch.py train --data DIR --out OUT [--epochs 1] [--seed 1]
        trains LeNet-5 (Adam 1e-3, batch 128) on MNIST and writes OUT/lenet.safetensors
        and OUT/lenet.predictions (PyTorch's class for each test image, one byte each)
    from_pytorch.py check --data DIR --out OUT
        loads OUT/lenet.finetuned.safetensors (scratchnet's fine-tuned weights) into
        the same PyTorch network and prints its test accuracy

Debian's python3-torch and the standard library: the safetensors file is written
and read with json and struct (pytorch_models.py; the format is a length, a JSON
header and the raw little-endian tensors). LeNet-5 there is the Sequential whose
module i is layer i of from_pytorch.cpp's Network<...>.
"""
import argparse
import gzip
import os
import struct

import numpy as np
import torch
from torch import nn

from pytorch_models import lenet, load_safetensors, save_safetensors



def read_idx(directory, stem):
    """An IDX file (raw or .gz): magic, dimension sizes (big-endian), unsigned bytes."""
    path = os.path.join(directory, stem)
    opener = open if os.path.exists(path) else gzip.open
    with opener(path if os.path.exists(path) else path + ".gz", "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(directory, part):
    images = read_idx(directory, f"{part}-images-idx3-ubyte")
    labels = read_idx(directory, f"{part}-labels-idx1-ubyte")
    # x * (1 / 255) in float, as scratchnet::load_mnist scales: the same input bits on both sides.
    return torch.from_numpy(images.astype(np.float32) * np.float32(1 / 255)).reshape(-1, 1, 28, 28), torch.from_numpy(
        labels.astype(np.int64))


def predictions(net, images):
    net.eval()
    with torch.no_grad():
        return torch.cat([net(images[i:i + 1000]).argmax(dim=1) for i in range(0, len(images), 1000)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["train", "check"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    parser.add_argument("--data", default=os.environ.get("SCRATCHNET_MNIST_DIR") or os.path.join(cache, "scratchnet", "mnist"),
                        help="MNIST directory (the build's default: $SCRATCHNET_MNIST_DIR, else the cache's scratchnet/mnist)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    test_x, test_y = mnist(args.data, "t10k")
    net = lenet()
    if args.step == "train":
        torch.manual_seed(args.seed)
        net = lenet()
        train_x, train_y = mnist(args.data, "train")
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        for epoch in range(args.epochs):
            net.train()
            order = torch.randperm(len(train_x))
            for begin in range(0, len(train_x), 128):
                idx = order[begin:begin + 128]
                optimizer.zero_grad()
                loss_fn(net(train_x[idx]), train_y[idx]).backward()
                optimizer.step()
        predicted = predictions(net, test_x)
        save_safetensors(net.state_dict(), os.path.join(args.out, "lenet.safetensors"))
        with open(os.path.join(args.out, "lenet.predictions"), "wb") as f:
            f.write(predicted.to(torch.uint8).numpy().tobytes())
        correct = int((predicted == test_y).sum())
        print(f"PyTorch: LeNet-5 after {args.epochs} epoch(s): test accuracy {100.0 * correct / len(test_y):.2f} % "
              f"({correct} of {len(test_y)}); wrote {args.out}/lenet.safetensors")
    else:
        net.load_state_dict(load_safetensors(os.path.join(args.out, "lenet.finetuned.safetensors")))
        correct = int((predictions(net, test_x) == test_y).sum())
        print(f"PyTorch: scratchnet's fine-tuned weights: test accuracy {100.0 * correct / len(test_y):.2f} % "
              f"({correct} of {len(test_y)})")


if __name__ == "__main__":
    main()
