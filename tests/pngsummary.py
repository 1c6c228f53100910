"""What a screenshot shows, read from the PNG without an imaging library: its size, and how many
pixels have the colours of the lineage graph (credited and uncredited edges, the root's node)."""

from __future__ import annotations

import zlib

__all__ = ["png_summary"]


def png_summary(data: bytes) -> tuple[int, int, dict[str, int]]:
    """Width, height and a count of the report's edge and node colours in an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour_type = header[8], header[9]
    assert depth == 8 and colour_type in (2, 6)
    step = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * step
    previous, counts = bytearray(stride), {"green": 0, "red": 0, "node": 0}
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        for i in range(0, stride, step):
            r, g, b = line[i], line[i + 1], line[i + 2]
            if abs(r - 0x2E) < 25 and abs(g - 0x7D) < 25 and abs(b - 0x32) < 25:
                counts["green"] += 1
            elif abs(r - 0xC6) < 25 and abs(g - 0x28) < 25 and abs(b - 0x28) < 25:
                counts["red"] += 1
            elif abs(r - 0xE3) < 6 and abs(g - 0xF2) < 6 and abs(b - 0xFD) < 6:
                counts["node"] += 1
        previous = line
    return width, height, counts
