#!/usr/bin/env python3
"""toy_codec: a tiny lossy image codec as a program, for saicbench's command-line codec adapter
(suite key `command_codecs:`). Python standard library only; deterministic.

    toy_codec.py encode INPUT.ppm|png OUTPUT Q     quantise each channel to Q levels (1..256),
                                                   zlib-compress the level indices
    toy_codec.py decode INPUT OUTPUT.ppm|png       back to 8-bit RGB
    toy_codec.py --version                         prints "toy_codec 1.0"

More levels keep more detail and cost more bytes: the rate grows with Q. The image format
follows the file name's suffix (.png, else binary PPM). Stream: b"TOY1", width, height (4 bytes
each, big-endian), Q (2 bytes), then the zlib stream (level 9) of the row-major R, G, B level
indices. Level of a sample v: (v * (Q - 1) + 127) // 255; its value back:
(level * 255 + (Q - 1) // 2) // (Q - 1); with Q = 1 every sample becomes 128. The functions
quantise()/dequantise() are imported by the tests to recompute what saicbench measures.
"""
import struct
import sys
import zlib

VERSION = "toy_codec 1.0"
MAGIC = b"TOY1"


def quantise(v, q):
    return 0 if q == 1 else (v * (q - 1) + 127) // 255


def dequantise(level, q):
    return 128 if q == 1 else (level * 255 + (q - 1) // 2) // (q - 1)


def encode_bytes(width, height, rgb, q):
    """The stream for packed RGB8 pixels (bytes) at Q levels."""
    table = bytes(quantise(v, q) for v in range(256))
    return MAGIC + struct.pack(">IIH", width, height, q) + zlib.compress(rgb.translate(table), 9)


def decode_bytes(data):
    """(width, height, rgb) of a stream."""
    if data[:4] != MAGIC or len(data) < 14:
        raise ValueError("not a toy_codec stream")
    width, height, q = struct.unpack(">IIH", data[4:14])
    if not 1 <= q <= 256:
        raise ValueError("bad Q %d" % q)
    levels = zlib.decompress(data[14:])
    if len(levels) != width * height * 3:
        raise ValueError("stream holds %d samples, want %d" % (len(levels), width * height * 3))
    table = bytes(dequantise(min(level, q - 1), q) for level in range(256))
    return width, height, levels.translate(table)


def read_ppm(data):
    """(width, height, rgb) of a binary PPM with maxval 255."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("want a P6 PPM with maxval 255")
    width, height = int(fields[1]), int(fields[2])
    rgb = data[pos + 1:pos + 1 + width * height * 3]
    if len(rgb) != width * height * 3:
        raise ValueError("truncated PPM")
    return width, height, rgb


def write_ppm(width, height, rgb):
    return b"P6\n%d %d\n255\n" % (width, height) + rgb


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(data):
    """(width, height, rgb) of an 8-bit RGB, non-interlaced PNG (what saicbench writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, head = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = head
    if depth != 8 or colour != 2 or interlace:
        raise ValueError("want an 8-bit RGB non-interlaced PNG")
    raw, stride, out, prev = zlib.decompress(idat), width * 3, bytearray(), bytearray(width * 3)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
            row[i] = (row[i] + pred) & 255
        out += row
        prev = row
    return width, height, bytes(out)


def write_png(width, height, rgb):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    stride = width * 3
    raw = b"".join(b"\0" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main(argv):
    if argv[1:] == ["--version"]:
        print(VERSION)
        return 0
    if len(argv) == 5 and argv[1] == "encode":
        with open(argv[2], "rb") as f:
            data = f.read()
        width, height, rgb = (read_png if argv[2].endswith(".png") else read_ppm)(data)
        q = int(argv[4])
        if not 1 <= q <= 256:
            print("toy_codec: Q %d outside 1..256" % q, file=sys.stderr)
            return 2
        with open(argv[3], "wb") as f:
            f.write(encode_bytes(width, height, rgb, q))
        return 0
    if len(argv) == 4 and argv[1] == "decode":
        with open(argv[2], "rb") as f:
            width, height, rgb = decode_bytes(f.read())
        with open(argv[3], "wb") as f:
            f.write((write_png if argv[3].endswith(".png") else write_ppm)(width, height, rgb))
        return 0
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
