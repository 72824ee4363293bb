"""The Shopify client's media library: the bytes a URL serves, and the shop's Files (find, upload
through a staged target, status, delete), each step safe to run again."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from typing import Any

from adapters.shopify import documents as docs
from adapters.shopify.catalog import (
    filename_from_url,
)
from adapters.shopify.client_state import ClientState
from adapters.shopify.http import send
from adapters.shopify.user_errors import error_codes, raise_for_user_errors
from connector.errors import MediaFailed, NotFound, PlatformError, TransientError
from connector.port import MediaState, MediaStatus

_DUPLICATE_FILENAME = {"FILENAME_ALREADY_EXISTS", "DUPLICATE_FILENAME_ERROR"}


def _search_phrase(value: str) -> str:
    """A value quoted for Shopify's search syntax."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MediaLibrary(ClientState):
    """Part of :class:`~adapters.shopify.client.ShopifyClient`: bytes and the shop's Files library."""

    def fetch_bytes(self, url: str) -> bytes:
        """Download an image the store serves (no credentials are sent to the CDN)."""
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            self._download(url, spool, "downloading an image", limit=self.config.max_download_bytes)
            spool.seek(0)
            return spool.read()

    # --------------------------------------------------------------- media library

    def find_media(self, filename: str) -> str | None:
        """The id of a library image uploaded under exactly this filename, or None.

        Shopify shows a file's URL (which carries its name) only once it is processed; while a
        file the search returned is still processing, this raises TransientError rather than
        answer None, so a resumed operation waits instead of uploading a second copy.
        """
        data = self.graphql.execute(docs.FILES_BY_NAME, {"query": f"filename:{_search_phrase(filename)}"})
        nodes = [n for n in (data.get("files") or {}).get("nodes") or [] if n]
        unnamed, failed = False, None  # a failed file has no URL to tell its name by
        for node in nodes:
            urls = [
                u
                for u in ((node.get("image") or {}).get("url"), (node.get("originalSource") or {}).get("url"))
                if u
            ]
            if filename in {filename_from_url(u) for u in urls}:
                return str(node["id"])
            if not urls and node.get("fileStatus") == "FAILED":
                failed = node
                continue
            unnamed = unnamed or not urls
        if failed is not None and not unnamed:  # Shopify gave up on the file: a retry cannot help
            reasons = "; ".join(
                f"{e.get('code')}: {e.get('message') or e.get('details')}"
                for e in failed.get("fileErrors") or []
            )
            raise MediaFailed(
                f"Shopify could not process the upload {filename}: {reasons or 'no reason given'}",
                hint="the original stays on the product; reprocess with another output format",
            )
        if unnamed:
            raise TransientError(
                f"a file matching {filename} is still being processed by Shopify",
                hint="try again in a few seconds",
            )
        return None

    def upload_media(self, product_id: str, data: bytes, filename: str, mime: str, alt: str | None) -> str:
        """Upload bytes into the Files library (not yet on the product); the new file's id.

        Idempotent by filename: an upload already made under this name is found and reused.
        """
        existing = self.find_media(filename)
        if existing:
            return existing
        target = self._stage(filename, mime, len(data))
        self._post_staged(target, data, filename, mime)
        result = self.graphql.execute(
            docs.FILE_CREATE,
            {
                "files": [
                    {
                        "originalSource": target["resourceUrl"],
                        "contentType": "IMAGE",
                        "alt": alt or "",
                        "filename": filename,
                        "duplicateResolutionMode": "RAISE_ERROR",
                    }
                ]
            },
        )["fileCreate"]
        errors = result.get("userErrors") or []
        if error_codes(errors) & _DUPLICATE_FILENAME:
            found = self.find_media(filename)
            if found:
                return found
            raise TransientError(
                f"{filename} exists in the Files library but cannot be found yet", hint="try again"
            )
        raise_for_user_errors(errors, f"creating the file {filename}")
        files = result.get("files") or []
        if not files:
            raise PlatformError(f"Shopify created no file for {filename}", hint="try the upload again")
        return str(files[0]["id"])

    def _stage(self, filename: str, mime: str, size: int) -> dict[str, Any]:
        result = self.graphql.execute(
            docs.STAGED_UPLOADS_CREATE,
            {
                "input": [
                    {
                        "resource": "IMAGE",
                        "filename": filename,
                        "mimeType": mime,
                        "httpMethod": "POST",
                        "fileSize": str(size),
                    }
                ]
            },
        )["stagedUploadsCreate"]
        raise_for_user_errors(result.get("userErrors"), f"staging the upload of {filename}")
        targets = result.get("stagedTargets") or []
        if not targets or not targets[0].get("url") or not targets[0].get("resourceUrl"):
            raise PlatformError(f"Shopify gave no upload target for {filename}", hint="try the upload again")
        return dict(targets[0])

    def _post_staged(self, target: Mapping[str, Any], data: bytes, filename: str, mime: str) -> None:
        """Multipart POST of the target's parameters, then the file (the order storage expects)."""
        fields: list[tuple[str, tuple[str | None, bytes | str, str | None]]] = [
            (str(p["name"]), (None, str(p["value"]), None)) for p in target.get("parameters") or []
        ]
        fields.append(("file", (filename, data, mime)))
        self.retry.run(
            lambda: send(
                self.session,
                "POST",
                str(target["url"]),
                "uploading to the staged target",
                self.config.timeout,
                files=fields,
            )
        )

    def _media_node(self, media_id: str) -> dict[str, Any] | None:
        try:
            nodes = self.graphql.execute(docs.MEDIA_NODES, {"ids": [media_id]}).get("nodes") or []
        except NotFound:
            return None
        return dict(nodes[0]) if nodes and nodes[0] else None

    def media_status(self, media_id: str) -> MediaStatus:
        """READY, FAILED (with Shopify's reason), PROCESSING or UPLOADED."""
        node = self._media_node(media_id)
        if node is None:
            raise NotFound(f"media {media_id} does not exist on {self.shop}", hint="upload it again")
        raw = node.get("status") or node.get("fileStatus") or MediaState.PROCESSING.value
        state = MediaState(raw) if raw in MediaState.__members__ else MediaState.PROCESSING
        if node.get("fileStatus") == "FAILED":
            state = MediaState.FAILED
        problems = [*(node.get("mediaErrors") or []), *(node.get("fileErrors") or [])]
        error = "; ".join(f"{p.get('code')}: {p.get('message')}" for p in problems) or None
        return MediaStatus(state=state, src=(node.get("image") or {}).get("url"), error=error)

    def media_exists(self, media_id: str) -> bool:
        """Whether the media item is still in the Files library (attached or not)."""
        return self._media_node(media_id) is not None

    def _file_update(self, change: Mapping[str, Any], action: str) -> None:
        result = self.graphql.execute(docs.FILE_UPDATE, {"files": [dict(change)]})["fileUpdate"]
        raise_for_user_errors(result.get("userErrors"), action)

    def delete_media(self, media_id: str) -> None:
        """Delete a file of the connector's own from the Files library (gone already: nothing to do)."""
        if self._media_node(media_id) is None:
            return
        result = self.graphql.execute(docs.FILE_DELETE, {"fileIds": [media_id]})["fileDelete"]
        raise_for_user_errors(result.get("userErrors"), f"deleting the file {media_id}")
