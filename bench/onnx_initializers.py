"""Compares named initializers of two ONNX files bit for bit, with no ONNX package: a minimal protobuf walk
(ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto name = 8, raw_data = 9, float_data = 4; an
initializer in external data is reported as such). Used by docs/benchmarks.md to show that fine-tuning left the
input normalisation constants unchanged.

Usage: /usr/bin/python3 bench/onnx_initializers.py A.onnx B.onnx NAME [NAME ...]
"""
import sys


def varint(data, i):
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(data):
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, i = varint(data, i)
        elif kind == 1:
            value, i = data[i:i + 8], i + 8
        elif kind == 5:
            value, i = data[i:i + 4], i + 4
        elif kind == 2:
            length, i = varint(data, i)
            value, i = data[i:i + length], i + length
        else:
            raise ValueError(f"unsupported wire type {kind}")
        yield number, kind, value


def initializers(path):
    with open(path, "rb") as f:
        model = f.read()
    graph = next(v for n, k, v in fields(model) if n == 7)
    found = {}
    for number, _, tensor in fields(graph):
        if number != 5:
            continue
        name, payload = None, b""
        for n, k, v in fields(tensor):
            if n == 8:
                name = v.decode()
            elif n in (9, 4):
                payload += v
            elif n == 14:
                payload = b"<external data>"
        found[name] = payload
    return found


def main():
    a, b = initializers(sys.argv[1]), initializers(sys.argv[2])
    same = True
    for name in sys.argv[3:]:
        if name not in a or name not in b:
            print(f"{name}: missing in {'first' if name not in a else 'second'} file")
            same = False
            continue
        equal = a[name] == b[name]
        same &= equal
        print(f"{name}: {'bit-identical' if equal else 'DIFFERENT'} ({len(a[name])} bytes)")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
