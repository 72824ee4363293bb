"""The WordPress bits the connector uses: ``wp/v2/media`` and files under ``wp-content/uploads``."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.woocommerce.context import body_params, caller, force_param, get_site, query_args
from sandbox.woocommerce.errors import WPError, no_route
from sandbox.woocommerce.media import UploadRejected, check_filetype
from sandbox.woocommerce.models import Attachment
from sandbox.woocommerce.params import Args, paginate
from sandbox.woocommerce.serialize import media_json
from sandbox.woocommerce.site import NewFile, Site

PREFIX = "/<site>/wp-json/wp/v2"
bp = Blueprint("wp_media", __name__)


def _require_author(s: Site, action: str) -> None:
    who = caller(s, woocommerce_route=False)
    if who is not None:
        return
    messages = {
        "create": ("rest_cannot_create", "Sorry, you are not allowed to create posts as this user."),
        "edit": ("rest_cannot_edit", "Sorry, you are not allowed to edit this post."),
        "delete": ("rest_cannot_delete", "Sorry, you are not allowed to delete this post."),
    }
    code, message = messages[action]
    raise WPError(code, message, 401)


def _attachment(s: Site, media_id: int) -> Attachment:
    with s.lock:
        att = s.attachments.get(media_id)
    if att is None:
        raise WPError("rest_post_invalid_id", "Invalid post ID.", 404)
    return att


def filename_from_disposition(header: str) -> str | None:
    """``WP_REST_Attachments_Controller::get_filename_from_disposition``."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "filename" and value:
            value = value.strip()
            if len(value) > 1 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value.strip() or None
    return None


def _raw_upload() -> NewFile:
    """``upload_from_data``: raw body + Content-Type + Content-Disposition."""
    data = request.get_data()
    if not data:
        raise WPError("rest_upload_no_data", "No data supplied.", 400)
    if not request.headers.get("Content-Type"):
        raise WPError("rest_upload_no_content_type", "No Content-Type supplied.", 400)
    disposition = request.headers.get("Content-Disposition")
    if not disposition:
        raise WPError("rest_upload_no_content_disposition", "No Content-Disposition supplied.", 400)
    filename = filename_from_disposition(disposition)
    if not filename:
        raise WPError(
            "rest_upload_invalid_disposition",
            "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted as "
            '`attachment; filename="image.png"` or similar.',
            400,
        )
    expected_md5 = request.headers.get("Content-MD5")
    if expected_md5 and hashlib.md5(data).hexdigest() != expected_md5:
        raise WPError("rest_upload_hash_mismatch", "Content hash did not match expected.", 412)
    return NewFile(filename, data, "")


def _file_upload() -> NewFile:
    """``upload_from_file``: multipart field ``file``."""
    upload = request.files.get("file") or next(iter(request.files.values()), None)
    if upload is None:
        raise WPError("rest_upload_no_data", "No data supplied.", 400)
    data = upload.read()
    return NewFile(upload.filename or "", data, "")


@bp.post(PREFIX + "/media")
def create_media(site: str) -> tuple[Response, int, dict[str, str]]:
    """``POST wp/v2/media``: raw bytes with Content-Disposition, or multipart ``file`` → 201."""
    s = get_site(site)
    _require_author(s, "create")
    multipart = bool(request.files)
    new = _file_upload() if multipart else _raw_upload()
    params = body_params() if multipart else query_args()
    try:
        filename, mime = check_filetype(new.filename, new.data)
    except UploadRejected as exc:
        s.record_upload("wp/v2/media", new.filename, new.data, error=str(exc))
        code = "rest_upload_unknown_error" if multipart else "rest_upload_sideload_error"
        raise WPError(code, str(exc), 500) from None
    att = s.add_attachment(
        NewFile(filename, new.data, mime),
        parent=int(params.get("post") or 0),
        via="wp/v2/media",
        title=str(params["title"]) if params.get("title") else None,
        alt=str(params.get("alt_text") or ""),
        caption=str(params.get("caption") or ""),
    )
    s.record_upload("wp/v2/media", filename, new.data, attachment_id=att.id)
    with s.lock:
        body = media_json(s, att)
    return jsonify(body), 201, {"Location": body["_links"]["self"][0]["href"]}


@bp.get(PREFIX + "/media/<int:media_id>")
def get_media(site: str, media_id: int) -> Response:
    """``GET wp/v2/media/<id>`` (public for attachments)."""
    s = get_site(site)
    caller(s, woocommerce_route=False)
    att = _attachment(s, media_id)
    with s.lock:
        return jsonify(media_json(s, att))


@bp.route(PREFIX + "/media/<int:media_id>", methods=["POST", "PUT", "PATCH"])
def update_media(site: str, media_id: int) -> Response:
    """``POST wp/v2/media/<id>`` {alt_text, title, caption, post}."""
    s = get_site(site)
    _require_author(s, "edit")
    data = body_params()
    att = _attachment(s, media_id)
    with s.lock:
        if "alt_text" in data:
            att.alt = str(data["alt_text"] or "")
        if "title" in data:
            title = data["title"]
            att.title = str(title.get("raw", "") if isinstance(title, dict) else title)
        if "caption" in data:
            att.caption = str(data["caption"] or "")
        if "post" in data:
            att.parent = int(data["post"] or 0)
        return jsonify(media_json(s, att))


@bp.delete(PREFIX + "/media/<int:media_id>")
def delete_media(site: str, media_id: int) -> Response:
    """``DELETE wp/v2/media/<id>?force=true`` (attachments cannot be trashed)."""
    s = get_site(site)
    _require_author(s, "delete")
    force = force_param()
    att = _attachment(s, media_id)
    if not force:
        raise WPError(
            "rest_trash_not_supported", "The post does not support trashing. Set 'force=true' to delete.", 501
        )
    with s.lock:
        previous = media_json(s, att)
    s.delete_attachment(media_id)
    return jsonify({"deleted": True, "previous": previous})


@bp.get(PREFIX + "/media")
def list_media(site: str) -> Response:
    """``GET wp/v2/media`` with ``search`` (title and file name), ``parent``, ``include``, paging."""
    s = get_site(site)
    caller(s, woocommerce_route=False)
    args = Args(query_args())
    page = args.integer("page", 1, minimum=1)
    per_page = args.integer("per_page", 10, minimum=1, maximum=100)
    order = args.choice("order", "desc", ("asc", "desc"))
    parents = args.id_list("parent")
    include = args.id_list("include")
    args.check()
    terms = [t for t in re.split(r"\s+", args.text("search").lower()) if t]
    with s.lock:
        rows = [
            a
            for a in s.attachments.values()
            if (not parents or a.parent in parents)
            and (not include or a.id in include)
            and all(t in a.title.lower() or t in a.file.lower() for t in terms)
        ]
    rows.sort(key=lambda a: (a.created, a.id), reverse=order == "desc")
    result = paginate(rows, page, per_page, f"{s.home_url}/wp-json/wp/v2/media", query_args())
    if page > max(result.pages, 1) and result.total > 0:
        raise WPError(
            "rest_post_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
            400,
        )
    with s.lock:
        resp = jsonify([media_json(s, a) for a in result.items])
    return result.headers(resp)


@bp.route("/<site>/wp-content/uploads/<path:path>", methods=["GET", "HEAD"])
def serve_upload(site: str, path: str) -> Response:
    """A file in the uploads directory (what ``src`` / ``source_url`` point at)."""
    s = get_site(site)
    found = s.file_bytes(path)
    if found is None:
        return Response("Not Found", status=404, mimetype="text/html")
    data, mime = found
    etag = base64.urlsafe_b64encode(hashlib.sha256(data).digest()[:12]).decode()
    resp = Response(data, mimetype=mime, headers={"ETag": f'"{etag}"', "Cache-Control": "max-age=31536000"})
    return resp


@bp.route("/<site>/wp-json/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_route(site: str, rest: str) -> Any:
    """Anything else under ``wp-json``: authenticated first, then ``rest_no_route``."""
    s = get_site(site)
    caller(s, woocommerce_route=rest.startswith(("wc/", "wc-")))
    raise no_route()
