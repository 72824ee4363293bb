"""Staged uploads (a Google-Cloud-Storage-like signed form POST or PUT), the CDN and bulk result files.

``stagedUploadsCreate`` hands out a target whose ``parameters`` sign a policy: the form must
echo every parameter unchanged, put the ``file`` part last, and respect the declared size;
otherwise the storage answers with a GCS-style XML error, as the real bucket does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, request

from sandbox.shopify.files import log_upload
from sandbox.shopify.media import file_bytes, guess_mime
from sandbox.shopify.state import ShopState, StagedUpload

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox

BUCKET = "shopify-staged-uploads"
IMAGE_RESOURCES = {"IMAGE", "PRODUCT_IMAGE", "SHOP_IMAGE", "COLLECTION_IMAGE"}
IMAGE_MIME = re.compile(r"^image/(jpeg|jpg|pjpeg|png|gif|webp|heic|heif|avif|tiff|bmp|svg\+xml)$")
_SIGNING_KEY = secrets.token_bytes(32)


def _sign(text: str) -> str:
    return hmac.new(_SIGNING_KEY, text.encode(), hashlib.sha256).hexdigest()


def create_target(
    sb: Sandbox,
    shop: ShopState,
    app_key: str,
    resource: str,
    filename: str,
    mime: str,
    http_method: str,
    declared_size: int | None,
) -> StagedUpload:
    """A signed upload target for one file."""
    now = time.time()
    token = secrets.token_hex(16)
    key = f"tmp/{shop.num}/{'products' if resource in IMAGE_RESOURCES else 'files'}/{token}/{filename}"
    limit = declared_size if declared_size is not None else sb.config.max_image_bytes
    expires = now + sb.config.staged_upload_ttl
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    credential = (
        f"merchant-assets@shopify-tiers.iam.gserviceaccount.com/{date[:8]}/auto/storage/goog4_request"
    )
    if http_method == "POST":
        policy_doc = {
            "expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            "conditions": [
                ["eq", "$bucket", BUCKET],
                ["eq", "$key", key],
                ["eq", "$Content-Type", mime],
                ["eq", "$success_action_status", "201"],
                ["eq", "$acl", "private"],
                ["content-length-range", 0, limit],
            ],
        }
        policy = base64.b64encode(json.dumps(policy_doc, separators=(",", ":")).encode()).decode()
        parameters = [
            {"name": "Content-Type", "value": mime},
            {"name": "success_action_status", "value": "201"},
            {"name": "acl", "value": "private"},
            {"name": "key", "value": key},
            {"name": "x-goog-date", "value": date},
            {"name": "x-goog-credential", "value": credential},
            {"name": "x-goog-algorithm", "value": "GOOG4-RSA-SHA256"},
            {"name": "x-goog-signature", "value": _sign(policy)},
            {"name": "policy", "value": policy},
        ]
    else:
        parameters = [{"name": "content_type", "value": mime}, {"name": "acl", "value": "private"}]
    target = StagedUpload(
        token=token,
        shop=shop.domain,
        app_key=app_key,
        resource=resource,
        filename=filename,
        mime=mime,
        http_method=http_method,
        declared_size=declared_size,
        parameters=parameters,
        created_at=now,
        expires_at=expires,
    )
    shop.staged[token] = target
    return target


def target_urls(base_url: str, shop: ShopState, target: StagedUpload) -> tuple[str, str]:
    """(url to upload to, resourceUrl to pass to fileCreate)."""
    url = f"{base_url}/{shop.domain}/staged-uploads/{target.token}"
    resource_url = f"{url}/{quote(target.filename)}"
    if target.http_method == "PUT":
        query = urlencode(
            {
                "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
                "X-Goog-Expires": str(int(target.expires_at - target.created_at)),
                "X-Goog-SignedHeaders": "content-type;host",
                "X-Goog-Signature": _sign(target.token),
            }
        )
        return f"{url}?{query}", resource_url
    return url, resource_url


def _xml_error(status: int, code: str, message: str, details: str = "") -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message>"
    if details:
        body += f"<Details>{details}</Details>"
    body += "</Error>"
    return Response(body, status=status, mimetype="application/xml")


def _file_part_is_last(raw: bytes) -> bool:
    names = re.findall(rb'Content-Disposition:\s*form-data;\s*name="([^"]*)"', raw, flags=re.IGNORECASE)
    return bool(names) and names[-1] == b"file"


def storage_blueprint(sb: Sandbox) -> Blueprint:
    """Routes of the storage bucket, the CDN and bulk result downloads."""
    bp = Blueprint("shopify_storage", __name__)

    def find_target(shop_name: str, token: str) -> tuple[ShopState, StagedUpload]:
        shop = sb.state.shop(shop_name)
        target = shop.staged.get(token) if shop else None
        if shop is None or target is None:
            abort(_xml_error(404, "NoSuchKey", "The specified key does not exist."))
        return shop, target

    def accept(shop: ShopState, target: StagedUpload, data: bytes, part_type: str | None) -> None:
        limit = target.declared_size if target.declared_size is not None else sb.config.max_image_bytes
        if len(data) > limit:
            target.rejected.append("EntityTooLarge")
            abort(
                _xml_error(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload is larger than the maximum object size specified in your "
                    "Policy Document.",
                    f"Content-length exceeds upper bound on range: {len(data)} > {limit}",
                )
            )
        target.data = data
        target.uploaded_at = time.time()
        log_upload(
            shop,
            kind="staged",
            token=target.token,
            filename=target.filename,
            mime=target.mime,
            part_type=part_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            app=target.app_key,
        )

    @bp.post("/<shop_name>/staged-uploads/<token>")
    def post_form(shop_name: str, token: str) -> Response:
        raw = request.get_data(cache=True)
        with sb.state.lock:
            shop, target = find_target(shop_name, token)
            if target.http_method != "POST":
                return _xml_error(405, "MethodNotAllowed", "This target expects a signed PUT.")
            if time.time() > target.expires_at:
                return _xml_error(400, "ExpiredToken", "Invalid argument.", "Policy expired.")
            form = request.form
            for param in target.parameters:
                if form.get(param["name"]) != param["value"]:
                    target.rejected.append(f"parameter {param['name']}")
                    return _xml_error(
                        403,
                        "AccessDenied",
                        "Invalid according to Policy: Policy Condition failed: "
                        f'["eq", "${param["name"]}", "{param["value"]}"]',
                    )
            upload = request.files.get("file")
            if upload is None:
                target.rejected.append("no file")
                return _xml_error(
                    400, "InvalidArgument", "Invalid argument.", "Missing file field in form POST."
                )
            if not _file_part_is_last(raw):
                target.rejected.append("file not last")
                return _xml_error(
                    400,
                    "InvalidArgument",
                    "Invalid argument.",
                    "The file field must be the last field of the form.",
                )
            accept(shop, target, upload.read(), upload.mimetype or None)
            key = next(p["value"] for p in target.parameters if p["name"] == "key")
            etag = hashlib.md5(target.data or b"").hexdigest()  # a GCS ETag, not security
            body = (
                "<?xml version='1.0' encoding='UTF-8'?><PostResponse>"
                f"<Location>{request.base_url}/{quote(target.filename)}</Location><Bucket>{BUCKET}</Bucket>"
                f'<Key>{key}</Key><ETag>"{etag}"</ETag></PostResponse>'
            )
        return Response(body, status=201, mimetype="application/xml")

    @bp.put("/<shop_name>/staged-uploads/<token>")
    def put_object(shop_name: str, token: str) -> Response:
        data = request.get_data()
        with sb.state.lock:
            shop, target = find_target(shop_name, token)
            if target.http_method != "PUT":
                return _xml_error(405, "MethodNotAllowed", "This target expects a signed form POST.")
            if request.args.get("X-Goog-Signature") != _sign(target.token):
                return _xml_error(
                    403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
                )
            if (request.content_type or "").split(";")[0].strip() != target.mime:
                return _xml_error(
                    403, "SignatureDoesNotMatch", "Content-Type does not match the signed content type."
                )
            accept(shop, target, data, request.content_type)
        return Response(b"", status=200)

    @bp.get("/<shop_name>/staged-uploads/<token>/<path:filename>")
    def get_staged(shop_name: str, token: str, filename: str) -> Response:
        find_target(shop_name, token)
        return _xml_error(
            403,
            "AccessDenied",
            "Access denied.",
            "Anonymous caller does not have storage.objects.get access.",
        )

    @bp.get("/<shop_name>/cdn/files/<int:num>/<path:filename>")
    def cdn(shop_name: str, num: int, filename: str) -> Response:
        with sb.state.lock:
            shop = sb.state.shop(shop_name)
            f = shop.live_file(num) if shop else None
            if f is None or f.filename != filename or f.status not in ("READY", "PROCESSING", "FAILED"):
                abort(Response("Not Found", status=404, mimetype="text/plain"))
            if f.data is None and f.seed is None:
                abort(Response("Not Found", status=404, mimetype="text/plain"))
            mime = f.mime or guess_mime(f.filename)
        data = file_bytes(f)
        etag = f.sha256 or hashlib.sha256(data).hexdigest()
        resp = Response(data, status=200, mimetype=mime)
        resp.headers["Cache-Control"] = "public, max-age=31536000"
        resp.set_etag(etag)
        resp.make_conditional(request)
        return resp

    @bp.get("/<shop_name>/bulk/<int:num>.jsonl")
    def bulk_result(shop_name: str, num: int) -> Response:
        with sb.state.lock:
            shop = sb.state.shop(shop_name)
            op = shop.bulk_operations.get(num) if shop else None
            if op is None or op.jsonl is None:
                return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
            body = op.jsonl
        return Response(body, status=200, mimetype="application/jsonl")

    return bp


def staged_summary(target: StagedUpload) -> dict[str, Any]:
    """Admin view of a staged target."""
    return {
        "token": target.token,
        "filename": target.filename,
        "mime": target.mime,
        "method": target.http_method,
        "declared_size": target.declared_size,
        "uploaded": target.data is not None,
        "size": len(target.data) if target.data is not None else None,
        "rejected": list(target.rejected),
    }
