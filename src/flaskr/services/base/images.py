"""Images on posts: proven to be images, stripped of metadata, re-encoded.

An upload is decoded in full by Pillow (so a file that only claims to be an
image fails), refused if it would decode to too many pixels (a decompression
bomb), turned upright by its EXIF orientation, and then re-encoded as WebP from
its pixels alone: EXIF, GPS, XMP, ICC profiles and comments are all left behind.
Two sizes are kept in the database, so every app server can serve them.
"""

from __future__ import annotations

import dataclasses
import io
import typing as t
import warnings

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import HeldImage
from flaskr.models import Image
from flaskr.models import Post

if t.TYPE_CHECKING:
    from PIL import Image as Pillow

#: What Pillow may decode an upload as: nothing else is even tried.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
#: The same, as a file input's ``accept`` attribute.
ACCEPTED_TYPES = ",".join(f"image/{name.lower()}" for name in ACCEPTED_FORMATS)
DISPLAY_SIZE = (1600, 1600)
THUMBNAIL_SIZE = (480, 480)
WEBP_QUALITY = 82
#: Sides of the square avatars: the author page's, and bylines' (twice the
#: size they are shown at, for sharp pictures on dense screens).
AVATAR_LARGE = 256
AVATAR_SMALL = 64
#: Sides of the site icon's squares, in pixels: home screens and the manifest
#: ask for 512, browser tabs show 32 and sharper screens twice that.
ICON_LARGE = 512
ICON_SMALL = 64


class ImageError(ValueError):
    """An upload that is not an acceptable image; the message says why."""


@dataclasses.dataclass(frozen=True)
class ProcessedImage:
    width: int
    height: int
    display: bytes
    thumbnail: bytes


@dataclasses.dataclass(frozen=True)
class ProcessedAvatar:
    large: bytes
    small: bytes


def _encode(picture: Pillow.Image, size: tuple[int, int]) -> bytes:
    copy = picture.copy()
    copy.thumbnail(size)
    buffer = io.BytesIO()
    copy.save(buffer, "WEBP", quality=WEBP_QUALITY)
    return buffer.getvalue()


def _decode_upload(
    stream: t.BinaryIO, *, max_bytes: int, max_pixels: int
) -> Pillow.Image:
    """The pixels of an uploaded image, upright, with no metadata.

    :raise ImageError: too large, too many pixels, or not a JPEG, PNG, WebP or
        GIF image.
    """
    # Imported here: a worker that never receives an upload never loads Pillow.
    from PIL import Image as Pillow
    from PIL import ImageOps
    from PIL import UnidentifiedImageError

    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageError(
            f"The image is larger than {max_bytes / 1_000_000:g} MB. Make it smaller."
        )
    if not data:
        raise ImageError("The file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns at twice its own limit; ours is the one that counts.
            warnings.simplefilter("error", Pillow.DecompressionBombWarning)
            picture = Pillow.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            if picture.width * picture.height > max_pixels:
                raise ImageError(
                    f"The image has {picture.width}×{picture.height} pixels, more"
                    f" than the {max_pixels:,} allowed."
                )
            picture.load()
    except ImageError:
        raise
    except (Pillow.DecompressionBombError, Pillow.DecompressionBombWarning):
        raise ImageError(
            f"The image has more than the {max_pixels:,} pixels allowed."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(
            "That file is not a JPEG, PNG, WebP or GIF image that can be read."
        ) from None

    upright = ImageOps.exif_transpose(picture)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    pixels.info = {}  # nothing of the original's metadata goes any further
    return pixels


def process_upload(
    stream: t.BinaryIO, *, max_bytes: int, max_pixels: int
) -> ProcessedImage:
    """Check and re-encode an uploaded image.

    :raise ImageError: as :func:`_decode_upload`.
    """
    pixels = _decode_upload(stream, max_bytes=max_bytes, max_pixels=max_pixels)
    return ProcessedImage(
        width=pixels.width,
        height=pixels.height,
        display=_encode(pixels, DISPLAY_SIZE),
        thumbnail=_encode(pixels, THUMBNAIL_SIZE),
    )


def process_avatar(
    stream: t.BinaryIO, *, max_bytes: int, max_pixels: int
) -> ProcessedAvatar:
    """Check an uploaded picture, crop its centre square and re-encode it in
    the two avatar sizes.

    :raise ImageError: as :func:`_decode_upload`.
    """
    from PIL import ImageOps

    pixels = _decode_upload(stream, max_bytes=max_bytes, max_pixels=max_pixels)
    side = min(pixels.width, pixels.height, AVATAR_LARGE)
    square = ImageOps.fit(pixels, (side, side))
    return ProcessedAvatar(
        large=_encode(square, (AVATAR_LARGE, AVATAR_LARGE)),
        small=_encode(square, (AVATAR_SMALL, AVATAR_SMALL)),
    )


@dataclasses.dataclass(frozen=True)
class ProcessedIcon:
    large: bytes
    small: bytes


def _png(picture: Pillow.Image, side: int) -> bytes:
    from PIL import ImageOps

    square = ImageOps.fit(picture, (side, side))
    buffer = io.BytesIO()
    square.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def process_icon(
    stream: t.BinaryIO, *, max_bytes: int, max_pixels: int
) -> ProcessedIcon:
    """Check an uploaded picture and make the icon's two square PNGs of its
    centre (PNG: every browser takes it as a favicon, WebP not yet).

    :raise ImageError: as for every upload.
    """
    pixels = _decode_upload(stream, max_bytes=max_bytes, max_pixels=max_pixels)
    return ProcessedIcon(large=_png(pixels, ICON_LARGE), small=_png(pixels, ICON_SMALL))


def scaled_size(image: Image | HeldImage, size: str) -> tuple[int, int]:
    """The width and height of the ``display`` or ``thumbnail`` copy."""
    box = DISPLAY_SIZE if size == "display" else THUMBNAIL_SIZE
    scale = min(1.0, box[0] / image.width, box[1] / image.height)
    return max(1, round(image.width * scale)), max(1, round(image.height * scale))


def attach(post: Post, processed: ProcessedImage, alt: str) -> None:
    """Give the post this image, replacing any it had. The caller commits."""
    if post.image is not None:
        # The old row must go before the new one comes (one image per post).
        post.image = None
        db.session.flush()
    post.image = Image(
        alt=alt,
        width=processed.width,
        height=processed.height,
        display=processed.display,
        thumbnail=processed.thumbnail,
    )


def image_bytes(image_id: int, size: str) -> tuple[Image, bytes] | None:
    """An image and the bytes of one of its sizes (``display`` or
    ``thumbnail``), or ``None`` if there is no such image."""
    column = Image.display if size == "display" else Image.thumbnail
    row = db.session.execute(
        sa.select(Image, column).where(Image.id == image_id)
    ).first()
    if row is None:
        return None
    return row[0], row[1]
