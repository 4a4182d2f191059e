"""PyTorch twins of the networks scratchnet's examples and tests train, module for
layer, so that a state_dict's names ("0.weight", "3.main.0.weight", ...) are the
ones scratchnet's load_safetensors and save_safetensors use; and safetensors files
in a few lines of json and struct (Debian has no safetensors package).

Imported by benchmark_pytorch.py, from_pytorch.py and tests/pytorch/interop.py.
Needs torch.
"""
import json
import struct

import torch
from torch import nn


class Residual(nn.Module):
    """y = shortcut(x) + main(x): scratchnet's Residual<..., Shortcut<...>> (the
    identity without a shortcut)."""

    def __init__(self, main, shortcut=None):
        super().__init__()
        self.main = main
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x):
        return self.shortcut(x) + self.main(x)


def global_avg_pool():
    """scratchnet's GlobalAvgPool2D: one module, as it is one layer."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())


def mlp(*sizes):
    """Dense layers with ReLU between them, on flat inputs: mlp(784, 128, 10)."""
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def lenet():
    """LeNet-5 as scratchnet's --model lenet spells it."""
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def mnist_cnn():
    """Keras' mnist_cnn (--model cnn)."""
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(128, 10))


def resnet():
    """The README's residual network (--model resnet, examples/common/resnet.hpp)."""

    def same(c):
        return Residual(nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                                      nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)))

    def down(c_in, c_out):
        return Residual(nn.Sequential(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out),
                                      nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out)),
                        nn.Sequential(nn.Conv2d(c_in, c_out, 2, stride=2), nn.BatchNorm2d(c_out)))

    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         same(16), nn.ReLU(), down(16, 32), nn.ReLU(), same(32), nn.ReLU(),
                         down(32, 64), nn.ReLU(), same(64), nn.ReLU(), global_avg_pool(), nn.Linear(64, 10))


DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(state_dict, path):
    """The format: the header's length (8 bytes, little-endian), a JSON header
    naming each tensor's dtype, shape and byte range, then the raw tensors."""
    header, blobs, offset = {}, [], 0
    for name, t in state_dict.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    """A state_dict for load_state_dict."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    types = {name: dtype for dtype, name in DTYPES.items()}
    tensors = {}
    for name, e in json.loads(data[8:8 + n]).items():
        if name != "__metadata__":
            begin, end = e["data_offsets"]
            raw = bytearray(data[8 + n + begin:8 + n + end])
            tensors[name] = torch.frombuffer(raw, dtype=types[e["dtype"]]).reshape(e["shape"]).clone()
    return tensors
