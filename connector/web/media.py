"""Signed, expiring URLs for blobs (before/after views in the dashboard), signed with itsdangerous."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from connector.blobs import BlobMissing
from connector.web.context import services

bp = Blueprint("media", __name__)

#: How long a media URL stays valid, in seconds.
MEDIA_URL_TTL = 3600
_SALT = "connector-media-url"


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def signed_media_path(secret: str, digest: str) -> str:
    """A path that serves the blob for :data:`MEDIA_URL_TTL` seconds."""
    return f"/media/{digest}?t={_signer(secret).dumps(digest)}"


def media_token_valid(secret: str, digest: str, token: str, max_age: int = MEDIA_URL_TTL) -> bool:
    """Whether ``token`` was signed for this blob with this secret less than ``max_age`` seconds ago."""
    try:
        return bool(_signer(secret).loads(token, max_age=max_age) == digest)
    except BadSignature:  # tampered, for another blob, or expired (SignatureExpired is a BadSignature)
        return False


@bp.get("/media/<digest>")
def blob(digest: str):
    """Serve a blob when its URL's signature is valid and not expired."""
    if not media_token_valid(current_app.config["SECRET_KEY"], digest, request.args.get("t", "")):
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
