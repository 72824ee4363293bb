"""StoreClient for WooCommerce: REST v3 for products, WordPress ``wp/v2/media`` for the library.

Every media step reads the product first and writes the full ordered ``images`` list of
``{id}`` (``PUT products/<id>``), so running a step twice changes nothing the second time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests

from adapters.outbound import guarded_session
from adapters.woocommerce.catalog import gmt_param, image_ids, to_remote
from adapters.woocommerce.config import WooConfig
from adapters.woocommerce.http import RetryPolicy, checked, json_of, transport_error
from adapters.woocommerce.originals import is_derived, original_url
from adapters.woocommerce.rest import SessionAPI
from adapters.woocommerce.urls import basename, file_stem, normalize_shop, wp_file_name
from adapters.woocommerce.webhooks import SUBSCRIBED_TOPICS
from connector.errors import AuthError, NotFound, PlatformError
from connector.port import CredentialsSaver, MediaState, MediaStatus, RemoteImage, RemoteProduct

BATCH_LIMIT = 100


class WooCommerceClient:
    """Operations on one WooCommerce store.  Raises only :mod:`connector.errors` classes."""

    platform: ClassVar[str] = "woocommerce"

    def __init__(
        self,
        shop: str,
        credentials: Mapping[str, Any],
        config: WooConfig | None = None,
        retry: RetryPolicy | None = None,
        on_credentials: CredentialsSaver | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.shop = normalize_shop(shop)
        self.config = config or WooConfig()
        self.retry = retry or RetryPolicy(
            self.config.max_attempts,
            self.config.backoff_base,
            self.config.backoff_max,
            platform=self.platform,
        )
        self._credentials = dict(credentials)
        self._on_credentials = on_credentials
        self.session = session or guarded_session(self.config.outbound)
        self.session.headers["User-Agent"] = self.config.user_agent
        key, secret = self._credentials.get("consumer_key"), self._credentials.get("consumer_secret")
        if not key or not secret:
            raise AuthError(
                f"no REST API key for {self.shop}",
                hint="install the connector on the store to grant it a key",
            )
        self.api = SessionAPI(
            self.shop,
            str(key),
            str(secret),
            session=self.session,
            version="wc/v3",
            timeout=self.config.timeout,
            user_agent=self.config.user_agent,
        )

    @property
    def credentials(self) -> dict[str, Any]:
        """The credentials in use (including a webhook secret created here)."""
        return dict(self._credentials)

    # ------------------------------------------------------------------------------ plumbing

    def _wc(
        self, method: str, endpoint: str, what: str, data: Any = None, **params: Any
    ) -> requests.Response:
        """One ``wc/v3`` call (OAuth-signed over http, Basic over https), retried when transient."""

        def call() -> requests.Response:
            kwargs: dict[str, Any] = {"params": dict(params)} if params else {}
            if method == "GET":
                return self.api.get(endpoint, **kwargs)
            if method == "DELETE":
                return self.api.delete(endpoint, **kwargs)
            return (
                self.api.put(endpoint, data, **kwargs)
                if method == "PUT"
                else self.api.post(endpoint, data, **kwargs)
            )

        return self.retry.run(lambda: checked(call, what))

    def _app_auth(self, required: bool) -> tuple[str, str] | None:
        user, password = self._credentials.get("app_user"), self._credentials.get("app_password")
        if user and password:
            return str(user), str(password)
        if required:
            raise AuthError(
                f"no Application Password for {self.shop}: uploading media needs one",
                hint="create one in WordPress (Users → Profile → Application Passwords) and add app_user and "
                "app_password to the store's credentials",
            )
        return None

    def _wp(
        self, method: str, route: str, what: str, *, auth_required: bool = False, **kw: Any
    ) -> requests.Response:
        """One ``wp/v2`` call with the Application Password (anonymous reads when there is none)."""
        url = f"{self.shop}/wp-json/wp/v2/{route}"
        auth = self._app_auth(auth_required)

        def call() -> requests.Response:
            return self.session.request(method, url, auth=auth, timeout=self.config.timeout, **kw)

        return checked(call, what)

    def _pages(self, endpoint: str, what: str, **params: Any) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            response = self._wc("GET", endpoint, what, per_page=self.config.per_page, page=page, **params)
            items = json_of(response, what)
            yield from items
            try:
                pages = int(response.headers.get("X-WP-TotalPages", "0"))
            except ValueError:
                pages = 0
            if not items or page >= pages:
                return
            page += 1

    # ------------------------------------------------------------------------------ catalog

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[RemoteProduct]:
        """Every product (not trashed), oldest id first; with ``updated_since``, those modified after it.

        The filter is second-resolution and exclusive, so it starts one second early.
        """
        params: dict[str, Any] = {"orderby": "id", "order": "asc"}
        if updated_since is not None:
            params.update(
                modified_after=gmt_param(updated_since - timedelta(seconds=1)), dates_are_gmt="true"
            )
        for product in self._pages("products", f"listing products of {self.shop}", **params):
            yield self._complete(product)

    def _variations(self, product_id: Any) -> list[dict[str, Any]]:
        """The variations with their own images (``context=edit``: in ``view`` a variation without
        one reports its parent's featured image), by id (pages of the default order may overlap)."""
        what = f"listing variations of product {product_id}"
        pages = self._pages(
            f"products/{product_id}/variations", what, context="edit", orderby="id", order="asc"
        )
        return list(pages)

    def _complete(self, product: Mapping[str, Any]) -> RemoteProduct:
        variations = self._variations(product["id"]) if product.get("variations") else []
        remote = to_remote(product, variations)
        if not any(is_derived(i.src) for i in remote.images):
            return remote
        return replace(remote, images=tuple(self._original(i) for i in remote.images))

    def _original(self, image: RemoteImage) -> RemoteImage:
        """The image read from the merchant's original upload where WordPress shows a copy of it."""
        if not is_derived(image.src):
            return image
        try:
            url = original_url(image.src, self._media(image.media_id))
        except (NotFound, AuthError):
            return image
        return replace(image, src=url, filename=basename(url)) if url else image

    def _read(self, product_id: str) -> dict[str, Any]:
        what = f"reading product {product_id} of {self.shop}"
        product: dict[str, Any] = json_of(self._wc("GET", f"products/{int(product_id)}", what), what)
        return product

    def get_product(self, product_id: str) -> RemoteProduct | None:
        """Re-read one product; None when it was deleted or trashed (a variation id reads its parent)."""
        try:
            product = self._read(product_id)
            if product.get("type") == "variation" and product.get("parent_id"):
                product = self._read(str(product["parent_id"]))
        except NotFound:
            return None
        if product.get("status") == "trash":
            return None
        return self._complete(product)

    def fetch_bytes(self, url: str) -> bytes:
        """Download a file the store serves (no credentials are sent)."""
        limit = self.config.max_download_bytes
        what = f"downloading {url}"

        def attempt() -> bytes:
            response = checked(
                lambda: self.session.get(url, timeout=self.config.timeout, stream=True, allow_redirects=True),
                what,
            )
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise PlatformError(
                            f"{what}: larger than {limit} bytes", hint="shrink the image on the store"
                        )
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise transport_error(exc, what) from exc
            finally:
                response.close()
            return b"".join(chunks)

        return self.retry.run(attempt)

    # ------------------------------------------------------------------------------ media library

    def find_media(self, filename: str) -> str | None:
        """The id of the library item first uploaded under exactly this file name, or None."""
        wanted = file_stem(wp_file_name(filename)).lower()
        what = f"searching the media library of {self.shop}"

        def search() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = json_of(
                self._wp("GET", "media", what, params={"search": wanted, "per_page": 100}), what
            )
            return found

        matches = []
        for item in self.retry.run(search):
            details = item.get("media_details") or {}
            stored = details.get("original_image") or str(details.get("file") or item.get("source_url") or "")
            if file_stem(stored.rsplit("/", 1)[-1]).lower() == wanted:
                matches.append(int(item["id"]))
        return str(min(matches)) if matches else None

    def upload_media(self, product_id: str, data: bytes, filename: str, mime: str, alt: str | None) -> str:
        """Upload bytes to ``wp/v2/media`` (attached to the product as parent, not shown); the id.

        Idempotent by file name: an upload already made under this name is reused, also when
        a retried upload's first answer was lost.
        """
        self._app_auth(required=True)
        existing = self.find_media(filename)
        if existing is not None:
            return existing
        what = f"uploading {filename} to {self.shop}"
        params = {"alt_text": alt or ""}
        if str(product_id).isdigit():
            params["post"] = str(product_id)
        headers = {
            "Content-Type": mime,
            "Content-Disposition": f'attachment; filename="{filename.replace(chr(34), "")}"',
        }

        def attempt() -> str:
            response = self._wp(
                "POST", "media", what, auth_required=True, data=data, headers=headers, params=params
            )
            return str(json_of(response, what)["id"])

        return self.retry.run(attempt, before_retry=lambda: self.find_media(filename))

    def _media(self, media_id: str) -> dict[str, Any]:
        what = f"reading media {media_id} of {self.shop}"
        media: dict[str, Any] = json_of(
            self.retry.run(lambda: self._wp("GET", f"media/{int(media_id)}", what)), what
        )
        return media

    def media_status(self, media_id: str) -> MediaStatus:
        """READY as soon as the attachment exists (WordPress processes uploads synchronously)."""
        media = self._media(media_id)
        return MediaStatus(state=MediaState.READY, src=media.get("source_url"))

    def media_exists(self, media_id: str) -> bool:
        """Whether the attachment is still in the library (attached or not)."""
        try:
            self._media(media_id)
        except NotFound:
            return False
        return True

    def delete_media(self, media_id: str) -> None:
        """Delete an attachment for good (``force``: attachments cannot be trashed); gone already: done."""
        what = f"deleting media {media_id}"
        try:
            self.retry.run(
                lambda: self._wp(
                    "DELETE", f"media/{int(media_id)}", what, auth_required=True, params={"force": "true"}
                )
            )
        except NotFound:
            return

    # ------------------------------------------------------------------------------ product images

    def _put_images(self, product_id: str, ids: list[int], what: str) -> None:
        self._wc("PUT", f"products/{int(product_id)}", what, {"images": [{"id": i} for i in ids]})

    def _shown(self, product_id: str) -> list[int]:
        return image_ids(self._read(product_id))

    def media_order(self, product_id: str) -> list[str] | None:
        """The product's image ids in gallery order; None when it was deleted or trashed."""
        try:
            product = self._read(product_id)
        except NotFound:
            return None
        return None if product.get("status") == "trash" else [str(i) for i in image_ids(product)]

    def attach_media(self, product_id: str, media_id: str) -> None:
        """Append the attachment to the product's images; no-op when already shown."""
        ids, mid = self._shown(product_id), int(media_id)
        if mid not in ids:
            self._put_images(product_id, [*ids, mid], f"attaching media {media_id} to product {product_id}")

    def move_media(self, product_id: str, media_id: str, position: int) -> None:
        """Move the attachment to a zero-based position; no-op when already there."""
        ids, mid = self._shown(product_id), int(media_id)
        if mid not in ids:
            raise NotFound(f"media {media_id} is not shown on product {product_id}", hint="attach it first")
        target = max(0, min(position, len(ids) - 1))
        if ids.index(mid) == target:
            return
        ids.remove(mid)
        ids.insert(target, mid)
        self._put_images(product_id, ids, f"moving media {media_id} on product {product_id}")

    def detach_media(self, product_id: str, media_id: str) -> None:
        """Take the attachment off the product (it stays in the library); no-op when not shown."""
        ids, mid = self._shown(product_id), int(media_id)
        if mid in ids:
            self._put_images(
                product_id,
                [i for i in ids if i != mid],
                f"detaching media {media_id} from product {product_id}",
            )

    def link_variants(self, product_id: str, media_id: str, variant_ids: tuple[str, ...]) -> None:
        """Set ``image: {id}`` on these variations; skips those already showing it or gone."""
        mid = int(media_id)
        current = {str(v["id"]): (v.get("image") or {}).get("id") for v in self._variations(int(product_id))}
        todo = [int(v) for v in variant_ids if v in current and current[v] != mid]
        what = f"linking media {media_id} to variations of product {product_id}"
        if len(todo) == 1:
            self._wc("PUT", f"products/{int(product_id)}/variations/{todo[0]}", what, {"image": {"id": mid}})
            return
        for start in range(0, len(todo), BATCH_LIMIT):
            chunk = [{"id": v, "image": {"id": mid}} for v in todo[start : start + BATCH_LIMIT]]
            result = json_of(
                self._wc("POST", f"products/{int(product_id)}/variations/batch", what, {"update": chunk}),
                what,
            )
            errors = [item["error"] for item in result.get("update", []) if item.get("error")]
            if errors:
                raise PlatformError(
                    f"{what}: {errors[0].get('code')}: {errors[0].get('message')}",
                    hint="check the variations on the store",
                )

    def webhook_secret(self) -> str:
        """The secret webhooks are signed with; created and saved on first use."""
        secret = self._credentials.get("webhook_secret")
        if not secret:
            secret = secrets.token_urlsafe(32)
            self._credentials["webhook_secret"] = secret
            if self._on_credentials is not None:
                self._on_credentials(dict(self._credentials))
        return str(secret)

    def register_webhooks(self, callback_url: str) -> None:
        """One active webhook per product topic to ``callback_url``, signed with our secret (idempotent).

        Existing ones are re-activated with the current secret (which also clears a
        "disabled after failures" state); duplicates are removed.
        """
        secret = self.webhook_secret()
        what = f"registering webhooks on {self.shop}"
        # by id: WooCommerce orders by date to the second, so pages of same-second webhooks overlap
        listed = self._pages("webhooks", what, orderby="id", order="asc")
        existing = list({int(w["id"]): w for w in listed if w.get("delivery_url") == callback_url}.values())
        for topic in SUBSCRIBED_TOPICS:
            mine = sorted((w for w in existing if w.get("topic") == topic), key=lambda w: int(w["id"]))
            body = {"name": f"{self.config.app_name} {topic}", "status": "active", "secret": secret}
            if mine:
                self._wc("PUT", f"webhooks/{int(mine[0]['id'])}", what, body)
                for extra in mine[1:]:
                    self._wc("DELETE", f"webhooks/{int(extra['id'])}", what, force="true")
            else:
                self._wc("POST", "webhooks", what, {**body, "topic": topic, "delivery_url": callback_url})

    def check_access(self) -> None:
        """Prove the keys work (one cheap signed read); AuthError when they do not."""
        self._wc("GET", "products", f"checking access to {self.shop}", per_page=1)
