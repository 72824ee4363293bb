"""File mutations: staged uploads, fileCreate, fileUpdate (alt, filename, references, content), fileDelete.

Every mutation validates all of its input first and changes nothing when any user error is found.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sandbox.shopify import files
from sandbox.shopify.context import Ctx, unsupported
from sandbox.shopify.gids import parse_gid
from sandbox.shopify.mutations_common import (
    MAX_ALT,
    WRITE_FILES,
    WRITE_PRODUCTS,
    file_for,
    is_http_url,
    product_ref,
    user_error,
)
from sandbox.shopify.state import READY, MediaError
from sandbox.shopify.uploads import IMAGE_MIME, IMAGE_RESOURCES, create_target, target_urls
from sandbox.shopify.views import MediaImageView

#: fileCreate / fileUpdate userErrors with a fixed text: code → Shopify's message.
_FILE_ERRORS: dict[str, str] = {
    "ALT_VALUE_LIMIT_EXCEEDED": f"The alt value exceeds the maximum limit of {MAX_ALT} characters.",
    "INVALID": "File URL is invalid",
    "INVALID_IMAGE_SOURCE_URL": "File URL is invalid",
    "INVALID_FILENAME_EXTENSION": "The filename extension provided must match the original filename.",
    "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE": "Provided filename extension must match original source.",
    "MISSING_FILENAME_FOR_DUPLICATE_MODE_REPLACE": (
        "Missing filename argument when attempting to use REPLACE duplicate mode."
    ),
    "PRODUCT_MEDIA_LIMIT_EXCEEDED": "Exceeded the limit of media per product.",
    "REFERENCE_TARGET_DOES_NOT_EXIST": "The target resource does not exist.",
    "UNSUPPORTED_FILE_REFERENCE": "The file type is not supported for referencing.",
}


def _file_error(field: list[str], code: str) -> dict[str, Any]:
    """A fileCreate / fileUpdate userError on ``field`` with Shopify's text for ``code``."""
    return user_error(field, _FILE_ERRORS[code], code)


# --------------------------------------------------------------------------------------------- staged uploads


def staged_uploads_create(ctx: Ctx, input: list[dict[str, Any]]) -> dict[str, Any]:
    ctx.require("stagedUploadsCreate", "write_files", "write_products", "write_themes")
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(input):
        resource, filename, mime = item["resource"], item["filename"], item["mimeType"]
        size = item.get("fileSize")
        if resource in ("VIDEO", "MODEL_3D") and size is None:
            kind = "video" if resource == "VIDEO" else "model3d"
            errors.append(
                user_error(["input", str(i), "fileSize"], f"file size is required for {kind} resources")
            )
        if resource not in IMAGE_RESOURCES | {"FILE"}:
            raise unsupported(f"Staged uploads for resource {resource}")
        if resource in IMAGE_RESOURCES and not IMAGE_MIME.match(mime or ""):
            errors.append(
                user_error(["input", str(i), "mimeType"], f"{filename}: ({mime}) is not a recognized format")
            )
        if size is not None and int(size) > ctx.sb.config.max_image_bytes and resource in IMAGE_RESOURCES:
            errors.append(
                user_error(
                    ["input", str(i), "fileSize"],
                    f"The file size {int(size)} exceeds the maximum of {ctx.sb.config.max_image_bytes} bytes",
                )
            )
    if errors:
        return {"stagedTargets": None, "userErrors": errors}
    targets = []
    for item in input:
        size = item.get("fileSize")
        target = create_target(
            ctx.sb,
            ctx.shop,
            ctx.app_key,
            item["resource"],
            item["filename"],
            item["mimeType"],
            item.get("httpMethod") or "PUT",
            int(size) if size is not None else None,
        )
        url, resource_url = target_urls(ctx.base_url, ctx.shop, target)
        targets.append({"url": url, "resourceUrl": resource_url, "parameters": target.parameters})
    return {"stagedTargets": targets, "userErrors": []}


# --------------------------------------------------------------------------------------------- files


def file_create(ctx: Ctx, files_: list[dict[str, Any]]) -> dict[str, Any]:
    ctx.require("fileCreate", *WRITE_FILES)
    errors: list[dict[str, Any]] = []
    plans: list[tuple[str, str, str, str]] = []
    for i, item in enumerate(files_):
        where = ["files", str(i)]
        source = item["originalSource"]
        content_type = item.get("contentType")
        if content_type not in (None, "IMAGE"):
            raise unsupported(f"fileCreate with contentType {content_type}")
        if not is_http_url(source):
            code = "INVALID_IMAGE_SOURCE_URL" if "://" in source else "INVALID"
            errors.append(_file_error([*where, "originalSource"], code))
            continue
        filename = item.get("filename") or files.filename_from_url(source)
        if item.get("filename") and files.extension(filename) != files.extension(
            files.filename_from_url(source)
        ):
            errors.append(_file_error([*where, "filename"], "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE"))
        alt = item.get("alt") or ""
        if len(alt) > MAX_ALT:
            errors.append(_file_error([*where, "alt"], "ALT_VALUE_LIMIT_EXCEEDED"))
        mode = item.get("duplicateResolutionMode") or "APPEND_UUID"
        if mode == "REPLACE" and not item.get("filename"):
            errors.append(_file_error([*where, "filename"], "MISSING_FILENAME_FOR_DUPLICATE_MODE_REPLACE"))
        plans.append((source, filename, alt, mode))
    if errors:
        return {"files": None, "userErrors": errors}
    created: list[MediaImageView] = []
    for source, filename, alt, mode in plans:
        existing = ctx.shop.files_named(filename)
        if existing and mode == "REPLACE":
            target = existing[0]
            files.replace_content(ctx.sb, ctx.shop, target, source)
            target.alt = alt or target.alt
            created.append(MediaImageView(ctx, target))
            continue
        if existing and mode == "RAISE_ERROR":
            f = files.create_file(ctx.sb, ctx.shop, source, filename, alt, "app", ctx.app_key)
            f.pending_source = None  # never processed: the name is taken
            f.status = "FAILED"
            f.errors = [
                MediaError(
                    "DUPLICATE_FILENAME_ERROR",
                    "Media could not be created because a file with the same name already exists.",
                )
            ]
            created.append(MediaImageView(ctx, f))
            continue
        f = files.create_file(
            ctx.sb, ctx.shop, source, files.unique_filename(ctx.shop, filename), alt, "app", ctx.app_key
        )
        created.append(MediaImageView(ctx, f))
    return {"files": created, "userErrors": []}


def file_update(ctx: Ctx, files_: list[dict[str, Any]]) -> dict[str, Any]:
    ctx.require("fileUpdate", *WRITE_FILES)
    if any(item.get("referencesToAdd") or item.get("referencesToRemove") for item in files_):
        ctx.require("fileUpdate", *WRITE_PRODUCTS)
    errors: list[dict[str, Any]] = []
    missing = [item["id"] for item in files_ if file_for(ctx, item["id"]) is None]
    if missing:
        quoted = ", ".join(json.dumps(m) for m in missing)
        noun = "File id" if len(missing) == 1 else "File ids"
        verb = "does not exist" if len(missing) == 1 else "do not exist"
        return {
            "files": None,
            "userErrors": [user_error(["files"], f"{noun} [{quoted}] {verb}.", "FILE_DOES_NOT_EXIST")],
        }
    for i, item in enumerate(files_):
        f = file_for(ctx, item["id"])
        assert f is not None
        where = ["files", str(i)]
        if f.status != READY:
            errors.append(
                user_error(
                    [*where, "id"], f"File with id {item['id']} is not in the READY state.", "NON_READY_STATE"
                )
            )
        if item.get("alt") is not None and len(item["alt"]) > MAX_ALT:
            errors.append(_file_error([*where, "alt"], "ALT_VALUE_LIMIT_EXCEEDED"))
        if item.get("filename") is not None and files.extension(item["filename"]) != files.extension(
            f.filename
        ):
            errors.append(_file_error([*where, "filename"], "INVALID_FILENAME_EXTENSION"))
        if item.get("previewImageSource"):
            raise unsupported("fileUpdate previewImageSource for images")
        source = item.get("originalSource")
        if source is not None and not is_http_url(source):
            errors.append(_file_error([*where, "originalSource"], "INVALID"))
        for kind in ("referencesToAdd", "referencesToRemove"):
            for ref in item.get(kind) or []:
                parsed = parse_gid(ref)
                if parsed is None or parsed[0] != "Product":
                    errors.append(_file_error([*where, kind], "UNSUPPORTED_FILE_REFERENCE"))
                elif product_ref(ctx, ref) is None:
                    errors.append(_file_error([*where, kind], "REFERENCE_TARGET_DOES_NOT_EXIST"))
        for ref in item.get("referencesToAdd") or []:
            target = product_ref(ctx, ref)
            if (
                target is not None
                and f.num not in target.media
                and len(target.media) >= ctx.sb.config.max_media_per_product
            ):
                errors.append(_file_error([*where, "referencesToAdd"], "PRODUCT_MEDIA_LIMIT_EXCEEDED"))
    if errors:
        return {"files": None, "userErrors": errors}
    updated = []
    for item in files_:
        f = file_for(ctx, item["id"])
        assert f is not None
        if item.get("alt") is not None:
            f.alt = item["alt"]
            for pnum in f.products:
                if pnum in ctx.shop.products:
                    ctx.mark_changed(ctx.shop.products[pnum])
        if item.get("filename") is not None and item["filename"] != f.filename:
            f.filename = files.unique_filename(ctx.shop, item["filename"])
        for ref in item.get("referencesToRemove") or []:
            product = product_ref(ctx, ref)
            if product is not None and files.detach(ctx.shop, f, product):
                ctx.mark_changed(product)
        for ref in item.get("referencesToAdd") or []:
            product = product_ref(ctx, ref)
            if product is not None and files.attach(ctx.shop, f, product):
                ctx.mark_changed(product)
        if item.get("originalSource"):
            files.replace_content(ctx.sb, ctx.shop, f, item["originalSource"])
        f.updated_at = time.time()
        updated.append(MediaImageView(ctx, f))
    return {"files": updated, "userErrors": []}


def file_delete(ctx: Ctx, fileIds: list[str]) -> dict[str, Any]:
    ctx.require("fileDelete", *WRITE_FILES)
    missing = [i for i in fileIds if file_for(ctx, i) is None]
    if missing:
        noun = "File id" if len(missing) == 1 else "File ids"
        verb = "does not exist" if len(missing) == 1 else "do not exist"
        return {
            "deletedFileIds": None,
            "userErrors": [
                user_error(["fileIds"], f"{noun} {','.join(missing)} {verb}.", "FILE_DOES_NOT_EXIST")
            ],
        }
    for value in fileIds:
        f = file_for(ctx, value)
        if f is not None:
            for product in files.delete_file(ctx.shop, f):
                ctx.mark_changed(product)
    return {"deletedFileIds": list(fileIds), "userErrors": []}
