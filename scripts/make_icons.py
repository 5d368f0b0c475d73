"""Draws the workspace's PNG icons (api/static/web/icon-{180,192,512}.png) from the same
design as icon.svg: a blue rounded square with three white bars. The web app manifest of
扫码作业 and iOS's home screen need PNGs; this keeps them reproducible without an image
library (numpy and zlib only). Run: python scripts/make_icons.py"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

WEB = Path(__file__).resolve().parents[1] / "api" / "static" / "web"
BLUE, WHITE = (0x0B, 0x5C, 0xAD), (0xFF, 0xFF, 0xFF)
BARS = ((8, 9, 16, 3), (8, 15, 16, 3), (8, 21, 10, 3))  # x, y, width, height on a 32 grid
SAMPLES = 4  # per pixel side, for smooth edges


def _coverage(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(inside the rounded square, inside a bar) per pixel, as fractions."""
    n = size * SAMPLES
    centres = (np.arange(n) + 0.5) / n * 32
    x, y = np.meshgrid(centres, centres)
    radius = 6.0
    dx = np.maximum(np.maximum(radius - x, x - (32 - radius)), 0)
    dy = np.maximum(np.maximum(radius - y, y - (32 - radius)), 0)
    square = dx**2 + dy**2 <= radius**2
    bars = np.zeros_like(square)
    for bx, by, width, height in BARS:
        bars |= (x >= bx) & (x < bx + width) & (y >= by) & (y < by + height)

    def pool(mask: np.ndarray) -> np.ndarray:
        return mask.reshape(size, SAMPLES, size, SAMPLES).mean(axis=(1, 3))

    return pool(square), pool(bars & square)


def icon(size: int) -> bytes:
    square, bars = _coverage(size)
    rgb = np.empty((size, size, 3))
    for channel in range(3):
        rgb[..., channel] = BLUE[channel] * (1 - bars / np.maximum(square, 1e-9)) + WHITE[
            channel
        ] * (bars / np.maximum(square, 1e-9))
    rgba = np.dstack([rgb, square * 255]).round().clip(0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in rgba)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    for size in (180, 192, 512):
        (WEB / f"icon-{size}.png").write_bytes(icon(size))
