#!/usr/bin/env python3
"""Decodes a PNG with nothing but zlib and prints what a test needs to know that it is a real render:

  png_check.py FILE   -> {"width": W, "height": H, "colours": N, "nonBackground": F, "rowsWithInk": R}

colours: distinct pixel values (capped at 100000); nonBackground: the fraction of pixels that differ from the
most common one; rowsWithInk: how many pixel rows hold anything but that colour. Only 8-bit greyscale, RGB and
RGBA, non-interlaced (what Chromium writes); anything else exits 2 with a reason. Each chunk's CRC is checked.
"""
import json, struct, sys, zlib
from collections import Counter

def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(2)

def chunks(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG: bad signature")
    pos = 8
    while pos < len(data):
        if pos + 8 > len(data):
            fail("truncated chunk header")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            fail("bad CRC in chunk %r" % kind)
        yield kind, body
        pos += 12 + length

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c

def main():
    data = open(sys.argv[1], "rb").read()
    header, idat = None, bytearray()
    for kind, body in chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        fail("no IHDR")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        fail("unsupported PNG: depth %d colour type %d interlace %d" % (depth, colour, interlace))
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        fail("image data is %d bytes, expected %d" % (len(raw), height * (stride + 1)))
    previous = bytearray(stride)
    pixels = Counter()
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xff
            elif kind == 2:
                line[i] = (line[i] + up) & 0xff
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xff
            elif kind == 4:
                line[i] = (line[i] + paeth(left, up, corner)) & 0xff
            elif kind != 0:
                fail("bad filter type %d in row %d" % (kind, y))
        row = [bytes(line[x:x + channels]) for x in range(0, stride, channels)]
        pixels.update(row)
        rows.append(row)
        previous = line
    background = pixels.most_common(1)[0][0]
    total = width * height
    ink = total - pixels[background]
    rows_with_ink = sum(1 for row in rows if any(p != background for p in row))
    print(json.dumps({"width": width, "height": height, "colours": min(len(pixels), 100000),
                      "nonBackground": ink / total, "rowsWithInk": rows_with_ink}))

main()
