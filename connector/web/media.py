"""Signed, expiring URLs for blobs: before/after views and sideloading by URL."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Blueprint, Response, abort, request

from connector.blobs import BlobMissing
from connector.web.context import services

bp = Blueprint("media", __name__)


def media_signature(secret: str, digest: str, expires: int) -> str:
    """HMAC over a blob hash and an expiry."""
    return hmac.new(secret.encode(), f"{digest}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_media_path(secret: str, digest: str, ttl: int = 3600) -> str:
    """A path that serves the blob until it expires."""
    expires = int(time.time()) + ttl
    return f"/media/{digest}?e={expires}&s={media_signature(secret, digest, expires)}"


@bp.get("/media/<digest>")
def blob(digest: str):
    """Serve a blob when the signature and expiry are valid."""
    expires = request.args.get("e", type=int) or 0
    sig = request.args.get("s", "")
    secret = services().settings.secret_key or "dev-only-not-secret"
    if expires < time.time() or not hmac.compare_digest(sig, media_signature(secret, digest, expires)):
        abort(403)
    try:
        data = services().blobs.get(digest)
    except BlobMissing:
        abort(404)
    mime = (
        "image/png"
        if data[:8] == b"\x89PNG\r\n\x1a\n"
        else "image/jpeg"
        if data[:2] == b"\xff\xd8"
        else "image/webp"
    )
    return Response(data, mimetype=mime, headers={"Cache-Control": "private, max-age=3600"})
