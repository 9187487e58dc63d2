"""JPEG stills in, analysis frames out: validated, size-bounded, decoded reduced.

A 1080p full decode costs more than every check together (about 7 ms against 3 ms at 1/4 scale
on this kind of machine), and no check needs more than ~480 pixels across, so the decoder asks
libjpeg for DCT-scaled output (``cv2.IMREAD_REDUCED_COLOR_{2,4,8}``) and then area-resizes to the
analysis width. The header is parsed first: the picture size decides the reduction, and a body
that is not a JPEG, is truncated, or claims absurd dimensions is rejected before libjpeg runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ANALYSIS_WIDTH = 480  # every check runs on frames this wide (aspect ratio kept)
DETAIL_WIDTH = 960  # ... except focus, which needs the finest detail: measured at twice that
MAX_PIXELS = 8192 * 8192  # a larger SOF is hostile or broken: refused before decoding
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))
_SOF = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
_EOI_TAIL = 4096  # cameras pad after EOI; the EOI must lie within this many final bytes


class StillError(ValueError):
    """A still that cannot be judged: ``reason`` is one of not_jpeg, truncated, corrupt, too_large."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class JpegHeader:
    width: int
    height: int
    components: int


def parse_header(data: bytes) -> JpegHeader:
    """Walk the marker segments up to the first SOF; raise StillError for anything else."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise StillError("not_jpeg", f"starts with {data[:16]!r}")
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise StillError("corrupt", f"no marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2:
            raise StillError("corrupt", f"segment length {length} at byte {i}")
        if marker in _SOF:
            if i + 2 + length > n or length < 8:
                break
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            comps = data[i + 9]
            if width == 0 or height == 0:
                raise StillError("corrupt", f"frame size {width}x{height}")
            if width * height > MAX_PIXELS:
                raise StillError("too_large", f"frame size {width}x{height}")
            return JpegHeader(width, height, comps)
        if marker in (0xDA, 0xD9):
            raise StillError("corrupt", "scan or end before any frame header")
        i += 2 + length
    raise StillError("truncated", f"ends after {n} bytes, before the frame header")


def reduction_for(width: int, height: int) -> int:
    """Largest DCT scale (8, 4, 2, 1) that keeps the picture at least DETAIL_WIDTH wide."""
    for factor, _ in _REDUCED:
        if width // factor >= DETAIL_WIDTH and height // factor >= 400:
            return factor
    return 1


def decode_still(data: bytes) -> np.ndarray:
    """BGR uint8 picture about DETAIL_WIDTH wide (smaller stills are not upscaled); Frame scales it."""
    header = parse_header(data)
    if data.rfind(b"\xff\xd9", max(0, len(data) - _EOI_TAIL)) < 0:
        raise StillError("truncated", f"no end-of-image marker in the last {_EOI_TAIL} bytes of {len(data)}")
    factor = reduction_for(header.width, header.height)
    flag = dict(_REDUCED).get(factor, cv2.IMREAD_COLOR)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None:
        raise StillError("corrupt", "libjpeg could not decode the picture")
    return resize_to(img, DETAIL_WIDTH)


def resize_to(img: np.ndarray, width: int) -> np.ndarray:
    """Area-resize a BGR (or gray) picture to ``width``; one at most 15 % wider is kept as it is."""
    h, w = img.shape[:2]
    if w <= width * 1.15:
        return img
    new_h = max(1, round(h * width / w))
    return cv2.resize(img, (width, new_h), interpolation=cv2.INTER_AREA)
