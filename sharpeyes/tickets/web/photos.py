"""Site photos: checked by content, re-encoded without the GPS position, stored under random names.

A file is accepted when its first bytes are a JPEG or PNG signature *and* Pillow decodes it fully
within a pixel budget; the uploaded name and type are ignored. Re-encoding (JPEG at the original
quantisation) drops anything riding along after the image data; the EXIF block is kept for the
orientation and capture time, minus the GPS directory unless the district's config keeps it.
Phones' HEIC photos are converted to JPEG by the browser when the form asks for image/jpeg.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 60_000_000  # a 48 MP phone camera passes; a decompression bomb does not
GPS_IFD = 0x8825
KINDS = ("before", "after")


class PhotoError(ValueError):
    pass


@dataclass(frozen=True)
class Clean:
    data: bytes
    content_type: str
    ext: str


def sniff(data: bytes) -> str:
    if data.startswith(JPEG_MAGIC):
        return "JPEG"
    if data.startswith(PNG_MAGIC):
        return "PNG"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        raise PhotoError("HEIC photos are not accepted: choose JPEG (the camera's 'most compatible' format)")
    raise PhotoError("not a JPEG or PNG image")


def clean(data: bytes, max_bytes: int, keep_gps: bool) -> Clean:
    if len(data) > max_bytes:
        raise PhotoError(f"photo larger than {max_bytes // (1024 * 1024)} MiB")
    fmt = sniff(data)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != fmt:
                raise PhotoError("the file's content does not match its signature")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoError("image has too many pixels")
            probe.verify()
        im = Image.open(io.BytesIO(data))
        im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, ValueError) as e:
        if isinstance(e, PhotoError):
            raise
        raise PhotoError("the image cannot be decoded") from None
    exif = im.getexif()
    if not keep_gps and GPS_IFD in exif:
        del exif[GPS_IFD]
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality="keep", exif=exif.tobytes() if len(exif) else b"")
        return Clean(out.getvalue(), "image/jpeg", "jpg")
    kw = {"exif": exif.tobytes()} if len(exif) else {}
    im.save(out, "PNG", **kw)
    return Clean(out.getvalue(), "image/png", "png")


def store(root: Path, ticket_id: int, photo: Clean) -> str:
    """Write the photo under ``root/<ticket>/<random>.<ext>``; returns the name relative to root."""
    d = root / str(ticket_id)
    d.mkdir(parents=True, exist_ok=True)
    name = f"{ticket_id}/{secrets.token_hex(16)}.{photo.ext}"
    tmp = root / f"{name}.tmp"
    tmp.write_bytes(photo.data)
    tmp.replace(root / name)
    return name
