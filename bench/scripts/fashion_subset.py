"""Writes the first N training and M test examples of Fashion-MNIST as an IDX folder (for runs that must fit a
loaded machine): python3 bench/scripts/fashion_subset.py OUT N M."""
import gzip
import os
import struct
import sys

SOURCE = "/usr/share/datasets/fashion-mnist"


def copy(prefix, count, out):
    for kind, item in (("images-idx3-ubyte", 784), ("labels-idx1-ubyte", 1)):
        with gzip.open(os.path.join(SOURCE, f"{prefix}-{kind}.gz"), "rb") as f:
            data = f.read()
        dims = data[3]
        header = 4 + 4 * dims
        shape = list(struct.unpack(">" + "I" * dims, data[4:header]))
        count = min(count, shape[0])
        shape[0] = count
        with open(os.path.join(out, f"{prefix}-{kind}"), "wb") as f:
            f.write(data[:4] + struct.pack(">" + "I" * dims, *shape) + data[header:header + count * item])


if __name__ == "__main__":
    out, train, test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    copy("train", train, out)
    copy("t10k", test, out)
