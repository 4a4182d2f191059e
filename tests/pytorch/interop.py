#!/usr/bin/python3
"""The PyTorch side of scratchnet's safetensors proof (tests/pytorch/interop.cpp).

    interop.py write DIR   builds each network below in PyTorch with random weights
                           (BatchNorm's running statistics random too), writes
                           NAME.safetensors (float32 and, as NAME.f64.safetensors,
                           float64), the inputs NAME.inputs and PyTorch's outputs
                           NAME.outputs (probabilities, after softmax) in eval mode
    interop.py check DIR   loads each NAME.scratchnet.safetensors that scratchnet
                           wrote into the same PyTorch network with load_state_dict,
                           runs NAME.scratchnet.inputs and compares with scratchnet's
                           NAME.scratchnet.outputs

Arrays are raw little-endian float64, the samples one after another (C order).
Needs only torch and the standard library: the networks and the safetensors
files (json and struct, as the README shows) come from examples/pytorch_models.py.
Exits 77 (CTest's skip) without torch.
"""
import os
import sys

try:
    import torch
    from torch import nn
except ImportError as e:
    print(f"skipped: {e} (Debian: apt install python3-torch)")
    sys.exit(77)

# The networks and the few lines of safetensors are the examples' (examples/pytorch_models.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
from pytorch_models import lenet, load_safetensors, mlp, mnist_cnn, resnet, save_safetensors  # noqa: E402

FLOAT_TOLERANCE = 1e-5
DOUBLE_TOLERANCE = 1e-12
SAMPLES = 16


# name: (network, input shape of one sample); the same networks as interop.cpp's.
NETWORKS = {
    "mlp": (lambda: mlp(784, 128, 10), (784,)),
    "lenet": (lenet, (1, 28, 28)),
    "mnist_cnn": (mnist_cnn, (1, 28, 28)),
    "resnet": (resnet, (1, 28, 28)),
}

def write_doubles(path, t):
    with open(path, "wb") as f:
        f.write(t.detach().to(torch.float64).contiguous().numpy().tobytes())


def read_doubles(path, shape):
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    return torch.frombuffer(raw, dtype=torch.float64).reshape(shape).clone()


def randomize(net, generator):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.2, 0.2, generator=generator)
                m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
                m.num_batches_tracked.fill_(7)


def write(directory):
    os.makedirs(directory, exist_ok=True)
    for index, (name, (make, shape)) in enumerate(NETWORKS.items()):
        torch.manual_seed(100 + index)
        generator = torch.Generator().manual_seed(200 + index)
        net = make()
        randomize(net, generator)
        net.eval()
        x = torch.rand((SAMPLES,) + shape, generator=generator, dtype=torch.float64)
        write_doubles(os.path.join(directory, name + ".inputs"), x)
        with torch.no_grad():
            save_safetensors(net.state_dict(), os.path.join(directory, name + ".safetensors"))
            write_doubles(os.path.join(directory, name + ".outputs"), torch.softmax(net(x.float()).double(), dim=1))
            net.double()
            save_safetensors(net.state_dict(), os.path.join(directory, name + ".f64.safetensors"))
            write_doubles(os.path.join(directory, name + ".f64.outputs"), torch.softmax(net(x), dim=1))
        print(f"{name}: wrote {sum(p.numel() for p in net.parameters())} parameters and {SAMPLES} outputs")


def relative_difference(a, b):
    return ((a - b).abs() / b.abs().clamp_min(1e-30)).max().item()


def check(directory):
    failed = False
    checked = 0
    for name, (make, shape) in NETWORKS.items():
        for suffix, dtype, tolerance in ((".scratchnet", torch.float32, FLOAT_TOLERANCE),
                                         (".scratchnet.f64", torch.float64, DOUBLE_TOLERANCE)):
            path = os.path.join(directory, name + suffix + ".safetensors")
            if not os.path.exists(path):
                print(f"{name}{suffix}: missing {path}")
                failed = True
                continue
            net = make().to(dtype)
            net.load_state_dict(load_safetensors(path))  # strict: every name and shape must fit
            net.eval()
            x = read_doubles(os.path.join(directory, name + suffix + ".inputs"), (SAMPLES,) + shape)
            expected = read_doubles(os.path.join(directory, name + suffix + ".outputs"), (SAMPLES, 10))
            with torch.no_grad():
                got = torch.softmax(net(x.to(dtype)).double(), dim=1)
            difference = relative_difference(got, expected)
            ok = difference <= tolerance
            failed = failed or not ok
            checked += 1
            print(f"{name}{suffix}: max relative difference {difference:.3g} (tolerance {tolerance:g}) "
                  f"{'ok' if ok else 'FAILED'}")
    print(f"{checked} networks checked")
    return 1 if failed else 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write(sys.argv[2])
        return 0
    return check(sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
