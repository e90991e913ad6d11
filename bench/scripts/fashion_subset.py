#!/usr/bin/env python3
"""Writes the first N training and M test images of Fashion-MNIST as an uncompressed IDX folder (for short benchmark runs).

usage: fashion_subset.py N_TRAIN N_TEST OUT_FOLDER [SOURCE_FOLDER]
"""
import gzip
import os
import struct
import sys


def copy(source, target, count, item_bytes):
    with gzip.open(source, "rb") as f:
        magic = f.read(4)
        dims = magic[3]
        shape = list(struct.unpack(">" + "I" * dims, f.read(4 * dims)))
        count = min(count, shape[0])
        body = f.read(count * item_bytes)
    shape[0] = count
    with open(target, "wb") as f:
        f.write(magic + struct.pack(">" + "I" * dims, *shape) + body)


def main():
    n_train, n_test, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    source = sys.argv[4] if len(sys.argv) > 4 else "/usr/share/datasets/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        copy(os.path.join(source, f"{prefix}-images-idx3-ubyte.gz"), os.path.join(out, f"{prefix}-images-idx3-ubyte"), count, 28 * 28)
        copy(os.path.join(source, f"{prefix}-labels-idx1-ubyte.gz"), os.path.join(out, f"{prefix}-labels-idx1-ubyte"), count, 1)


if __name__ == "__main__":
    main()
