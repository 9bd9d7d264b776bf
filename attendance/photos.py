"""Employee photos for the badge cards: checked, re-encoded and kept under the instance folder.

``store_photo`` accepts an upload only if Pillow reads it as an image of a known format,
within a size and pixel limit, and writes a fresh JPEG (so nothing of the upload but its
pixels is kept: no metadata, no trailing data, no polyglot tricks). ``Employee.photo`` holds
the path relative to the instance folder (``photos/<id>-<random>.jpg``), the form that
``attendance.cards.load_photo(value, base_dir=instance_path())`` reads.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
from pathlib import Path

from PIL import Image, ImageOps

from attendance.messages import Message

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far above any camera photo, far below a decompression bomb
MAX_SIDE = 1200  # stored size: a card prints the photo at about 20 × 27 mm
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"})
FOLDER = "photos"


class PhotoError(ValueError):
    """An upload that is not an acceptable photo; the message is one Vietnamese sentence."""


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns (and later refuses) on huge images: treat the warning as a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise PhotoError("định dạng ảnh không được hỗ trợ (dùng JPEG hoặc PNG)")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PhotoError("ảnh có quá nhiều điểm ảnh")
            image.load()
        except PhotoError:
            raise
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
                Image.DecompressionBombError):
            raise PhotoError("tệp không phải là ảnh hoặc ảnh bị hỏng") from None
    return image


def clean_jpeg(data: bytes) -> bytes:
    """The upload as a new JPEG (upright, RGB, at most MAX_SIDE pixels a side)."""
    if len(data) > MAX_BYTES:
        raise PhotoError(Message("ảnh lớn hơn {mb} MB", mb=MAX_BYTES // (1024 * 1024)))
    if not data:
        raise PhotoError("tệp rỗng")
    image = _open(data)
    try:
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError):
        raise PhotoError("tệp không phải là ảnh hoặc ảnh bị hỏng") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def store_photo(data: bytes, instance_dir: Path, employee_id: int) -> str:
    """Write the cleaned photo under ``instance_dir/photos/``; returns its relative path.

    The file gets a fresh random name (no cache serves an old photo under it). The previous
    file is left in place: the caller's transaction may still roll back to it.
    """
    jpeg = clean_jpeg(data)
    folder = instance_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{employee_id}-{secrets.token_hex(8)}.jpg"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(jpeg)
    os.replace(tmp, folder / name)
    return f"{FOLDER}/{name}"


def photo_file(value: str | None, instance_dir: Path) -> Path | None:
    """The stored photo file for ``Employee.photo``, if it is a file inside ``photos/``."""
    if not value or value.startswith("data:"):
        return None
    folder = (instance_dir / FOLDER).resolve()
    path = (instance_dir / value).resolve()
    if path.parent != folder or not path.is_file():
        return None
    return path
