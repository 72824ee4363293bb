"""What WordPress does with a file that becomes an attachment.

File type checks (``wp_check_filetype_and_ext``), file names (``sanitize_file_name``,
``wp_unique_filename``), the big-image threshold and EXIF rotation of ``wp_create_image_subsizes``,
and the URL checks plus download of ``wp_safe_remote_get`` used to sideload ``{src}`` images.
"""

from __future__ import annotations

import io
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from PIL import Image, ImageOps

#: wc_rest_allowed_image_mime_types()
ALLOWED_IMAGE_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "jpe": "image/jpeg",
    "gif": "image/gif",
    "png": "image/png",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "tif": "image/tiff",
    "ico": "image/x-icon",
    "webp": "image/webp",
}
#: extensions wp_attachment_is_image() accepts
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "jpe", "gif", "png", "webp"})
MIME_TO_EXT = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tif",
    "image/webp": "webp",
}
SAFE_PORTS = (80, 443, 8080)
NOT_ALLOWED = "Sorry, you are not allowed to upload this file type."
EMPTY_FILE = "File is empty. Please upload something more substantial. This error could also be caused by uploads being disabled in your php.ini or by post_max_size being defined as smaller than upload_max_filesize in php.ini."  # noqa: E501


class UploadRejected(Exception):
    """``wp_handle_sideload`` / ``wp_handle_upload`` refused the file; the message is WordPress's."""


class DownloadFailed(Exception):
    """``download_url`` failed; the message is WordPress's."""


def sniff_mime(data: bytes) -> str | None:
    """The real type of ``data`` as getimagesize/fileinfo would tell (None: unknown binary)."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM":
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    text = data[:512].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "text/html"
    if text.startswith(b"<?xml") or text.startswith(b"<svg"):
        return "image/svg+xml"
    if text and all(32 <= b < 127 or b in (9, 10, 13) for b in text):
        return "text/plain"
    return None


def extension_of(filename: str) -> str:
    """Lower-case extension without the dot ("" when none)."""
    base = filename.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def check_filetype(filename: str, data: bytes) -> tuple[str, str]:
    """``wp_check_filetype_and_ext`` with the image mimes: (final filename, mime) or UploadRejected.

    A known image extension on bytes of another image type is corrected (``.jpg`` holding a PNG
    becomes ``.png``); anything whose real type does not match its extension is refused.
    """
    if not data:
        raise UploadRejected(EMPTY_FILE)
    ext = extension_of(filename)
    claimed = ALLOWED_IMAGE_TYPES.get(ext)
    if claimed is None:
        raise UploadRejected(NOT_ALLOWED)
    real = sniff_mime(data)
    if real in MIME_TO_EXT and real != claimed:
        stem = filename.rsplit(".", 1)[0]
        return f"{stem}.{MIME_TO_EXT[real]}", real
    if real != claimed:
        raise UploadRejected(NOT_ALLOWED)
    return filename, claimed


_UNSAFE_CHARS = re.compile("[?\\[\\]/\\\\=<>:;,'\"&$#*()|~`!{}%+\u2019\u00ab\u00bb\u201d\u201c\x00]")


def sanitize_file_name(name: str) -> str:
    """``sanitize_file_name``: drop special characters, whitespace to dashes, trim."""
    name = _UNSAFE_CHARS.sub("", name.replace("\u00a0", " "))
    name = re.sub(r"[\r\n\t -]+", "-", name)
    name = name.strip(".-_")
    if "." not in name:
        return name or "unnamed-file"
    stem, ext = name.rsplit(".", 1)
    return f"{stem.strip('.-_') or 'unnamed-file'}.{ext.lower()}"


def unique_filename(name: str, taken: set[str]) -> str:
    """``wp_unique_filename``: add ``-1``, ``-2`` … before the extension until the name is free."""
    if name.lower() not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 1
    while True:
        candidate = f"{stem}-{n}{dot}{ext}"
        if candidate.lower() not in taken:
            return candidate
        n += 1


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height (as stored, before EXIF rotation), None when undecodable."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return int(im.width), int(im.height)
    except Exception:
        return None


@dataclass(frozen=True)
class Derived:
    """The file WordPress serves as the attachment when it is not the uploaded one."""

    suffix: str  # "scaled" | "rotated"
    data: bytes
    width: int
    height: int


def derive_full_size(data: bytes, mime: str, threshold: int, quality: int) -> Derived | None:
    """``wp_create_image_subsizes``: a ``-scaled`` copy above ``threshold`` px or a ``-rotated`` copy
    of an EXIF-oriented image, except for PNGs.  None when the upload is served as it is."""
    if mime not in ("image/jpeg", "image/webp", "image/gif"):
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            too_big = bool(threshold) and max(im.width, im.height) > threshold
            if not too_big and orientation in (0, 1):
                return None
            out = ImageOps.exif_transpose(im) if orientation not in (0, 1) else im.copy()
            if too_big:
                out.thumbnail((threshold, threshold), Image.Resampling.LANCZOS)
            fmt = {"image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}[mime]
            if fmt == "JPEG" and out.mode not in ("RGB", "L", "CMYK"):
                out = out.convert("RGB")
            buf = io.BytesIO()
            out.save(buf, fmt, **({"quality": quality} if fmt != "GIF" else {}))
            return Derived("scaled" if too_big else "rotated", buf.getvalue(), out.width, out.height)
    except Exception:
        return None


# ------------------------------------------------------------------------------- safe remote requests


def _is_private(ip: str) -> bool:
    parts = [int(p) for p in ip.split(".")]
    return (
        parts[0] in (127, 10, 0)
        or (parts[0] == 172 and 16 <= parts[1] <= 31)
        or (parts[0] == 192 and parts[1] == 168)
    )


def validate_url(url: str, home_url: str, allow_private: bool) -> bool:
    """``wp_http_validate_url``: may WordPress's safe HTTP API fetch ``url``?"""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return False
    home = urlsplit(home_url)
    host = parts.hostname.strip(".").lower()
    same_host = (home.hostname or "").lower() == host
    if allow_private:
        return True
    if not same_host:
        try:
            ip = str(ipaddress.IPv4Address(host))
        except ValueError:
            try:
                ip = socket.gethostbyname(host)
            except OSError:
                return False
        if _is_private(ip):
            return False
    if port is None or port in SAFE_PORTS:
        return True
    return same_host and home.port == port


def download(url: str, home_url: str, allow_private: bool, timeout: float) -> bytes:
    """``download_url`` through ``wp_safe_remote_get``: the body, or DownloadFailed with WP's message."""
    if not validate_url(url, home_url, allow_private):
        raise DownloadFailed("A valid URL was not provided.")
    try:
        resp = requests.get(url, timeout=timeout, allow_redirects=True)
    except requests.Timeout:
        raise DownloadFailed(
            f"cURL error 28: Operation timed out after {int(timeout * 1000)} milliseconds"
        ) from None
    except requests.RequestException:
        host = urlsplit(url).hostname
        raise DownloadFailed(
            f"cURL error 7: Failed to connect to {host} port {urlsplit(url).port or 80}"
        ) from None
    if resp.status_code != 200:
        raise DownloadFailed(resp.reason or f"HTTP {resp.status_code}")
    return resp.content
