"""Capture files: encode, name by content hash, write once, and make a thumbnail (Pillow).

Content addressing makes identical captures one file and lets anyone check a file against
the sha256 in the database; files are written to a temporary name and renamed, so a crash
never leaves half an image under a real name.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image

from aggregator.records import StoredImage

ROOT = "screenshots"
THUMBS = "thumbs"


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "webp":
        image.save(out, "WEBP", lossless=True, method=4)
    else:
        image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _write_once(data_dir: Path, relative: str, data: bytes) -> None:
    target = data_dir / relative
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, target)


def _thumbnail(image: Image.Image, width: int) -> Image.Image:
    """The top of the page at 4:3, scaled to `width`: what a list of captures wants to show."""
    top = image.crop((0, 0, image.width, min(image.height, image.width * 3 // 4)))
    top.thumbnail((width, width))
    return top


def store_image(png: bytes, data_dir: Path, fmt: str, thumbnail_width: int) -> StoredImage:
    """Write the browser's PNG as `fmt` at screenshots/ab/cd/<sha256>.<fmt>, plus a thumbnail."""
    image = Image.open(io.BytesIO(png))
    image.load()
    data = png if fmt == "png" else _encode(image, fmt)
    digest = hashlib.sha256(data).hexdigest()
    shard = f"{digest[:2]}/{digest[2:4]}/{digest}.{fmt}"
    path, thumb = f"{ROOT}/{shard}", f"{ROOT}/{THUMBS}/{shard}"
    _write_once(data_dir, path, data)
    if not (data_dir / thumb).exists():
        _write_once(data_dir, thumb, _encode(_thumbnail(image, thumbnail_width), fmt))
    return StoredImage(path, thumb, digest, len(data), image.width, image.height, fmt)
