"""Photo checks by content: signatures, full decode, pixel budget, HEIC refused, GPS kept only on request."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from sharpeyes.tickets.web.photos import GPS_IFD, PhotoError, clean


def png_with_gps() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD)[1] = "N"
    exif.get_ifd(GPS_IFD)[2] = (35.0, 18.0, 5.0)
    buf = io.BytesIO()
    Image.new("RGB", (50, 40), "white").save(buf, "PNG", exif=exif.tobytes())
    return buf.getvalue()


def test_png_loses_gps_unless_kept() -> None:
    data = png_with_gps()
    assert GPS_IFD in Image.open(io.BytesIO(data)).getexif()
    out = clean(data, 1 << 20, keep_gps=False)
    assert out.content_type == "image/png" and GPS_IFD not in Image.open(io.BytesIO(out.data)).getexif()
    kept = clean(data, 1 << 20, keep_gps=True)
    assert Image.open(io.BytesIO(kept.data)).getexif().get_ifd(GPS_IFD)[1] == "N"


def test_heic_is_refused_with_a_reason() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(PhotoError, match="HEIC"):
        clean(heic, 1 << 20, keep_gps=False)


def test_truncated_and_disguised_files_are_refused() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), "red").save(buf, "JPEG")
    with pytest.raises(PhotoError):
        clean(buf.getvalue()[:300], 1 << 20, keep_gps=False)  # JPEG signature, cut short
    with pytest.raises(PhotoError):
        clean(b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script>", 1 << 20, keep_gps=False)


def test_decompression_bomb_is_refused() -> None:
    # a valid PNG header claiming 20000 x 20000 pixels in a few hundred bytes
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) \
        + chunk(b"IEND", b"")
    with pytest.raises(PhotoError):
        clean(bomb, 1 << 20, keep_gps=False)
