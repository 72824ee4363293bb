"""The two WooCommerce stores the adapter contract runs against, driven through their public APIs only.

A :class:`ContractStore` is the emulator (``sandbox.woocommerce``) or the real WordPress 6.1 +
WooCommerce 7.9 store (``sandbox.real_woocommerce``): set-up and checks go through ``wc/v3`` and
``wp/v2`` as the site's administrator, so one test body proves the same thing on both.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from PIL import Image
from woocommerce import API

from adapters.outbound import OutboundPolicy
from connector.settings import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"


def sha(data: bytes) -> str:
    """sha256 hex of bytes."""
    return hashlib.sha256(data).hexdigest()


def png(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small PNG."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def big_jpeg(width: int = 2800) -> bytes:
    """A real photo enlarged past WordPress's 2560 px threshold."""
    with Image.open(EXAMPLES / "car-3.jpg") as img:
        buf = io.BytesIO()
        img.convert("RGB").resize((width, round(img.height * width / img.width))).save(
            buf, "JPEG", quality=85
        )
    return buf.getvalue()


@dataclass
class ContractStore:
    """One store under test: its URL, credentials and a way to push out waiting webhook deliveries."""

    kind: str  # "emulator" | "real"
    url: str
    credentials: dict[str, Any]
    deliver: Callable[[], object] = lambda: None
    created: list[int] = field(default_factory=list)

    @property
    def outbound(self) -> OutboundPolicy:
        """The outbound guard an operator would configure for this store: its loopback host:port only
        (it listens on plain http), everything else public https as in production."""
        return OutboundPolicy.from_hosts(urlsplit(self.url).netloc)

    @property
    def admin(self) -> API:
        """``wc/v3`` as the site's administrator."""
        return API(
            url=self.url,
            consumer_key=self.credentials["consumer_key"],
            consumer_secret=self.credentials["consumer_secret"],
            version="wc/v3",
            timeout=60,
        )

    def wc(self, method: str, endpoint: str, data: Any = None, **params: Any) -> Any:
        """One admin ``wc/v3`` call; its JSON (fails the test on an error answer)."""
        api = self.admin
        kwargs = {"params": params} if params else {}
        if method == "GET":
            response = api.get(endpoint, **kwargs)
        elif method == "DELETE":
            response = api.delete(endpoint, **kwargs)
        else:
            response = getattr(api, method.lower())(endpoint, data, **kwargs)
        assert response.status_code < 300, (
            f"{method} {endpoint}: {response.status_code} {response.text[:300]}"
        )
        return response.json()

    def wp(self, method: str, route: str, **kw: Any) -> requests.Response:
        """One ``wp/v2`` call with the Application Password."""
        auth = (self.credentials["app_user"], self.credentials["app_password"])
        return requests.request(method, f"{self.url}/wp-json/wp/v2/{route}", auth=auth, timeout=60, **kw)

    def upload(self, data: bytes, filename: str, mime: str = "image/jpeg") -> int:
        """A new library attachment; its id."""
        headers = {"Content-Type": mime, "Content-Disposition": f'attachment; filename="{filename}"'}
        response = self.wp("POST", "media", data=data, headers=headers)
        assert response.status_code == 201, response.text[:300]
        return int(response.json()["id"])

    def media(self, media_id: int | str) -> dict[str, Any]:
        """``wp/v2/media/<id>`` (edit context)."""
        response = self.wp("GET", f"media/{int(media_id)}", params={"context": "edit"})
        assert response.status_code == 200, response.text[:300]
        body: dict[str, Any] = response.json()
        return body

    def product(
        self, name: str, image_ids: list[int], variations: dict[str, int | None] | None = None
    ) -> tuple[int, dict[str, int]]:
        """A published product showing ``image_ids``; with ``variations``, a variable product whose
        variations (by option) show their own image (or none).  Deleted at the end of the test."""
        body: dict[str, Any] = {"name": name, "status": "publish", "images": [{"id": i} for i in image_ids]}
        if variations:
            body.update(
                type="variable",
                attributes=[
                    {"name": "Colour", "options": list(variations), "variation": True, "visible": True}
                ],
            )
        else:
            body["regular_price"] = "9.99"
        pid = int(self.wc("POST", "products", body)["id"])
        self.created.append(pid)
        made = {}
        for option, image in (variations or {}).items():
            vbody: dict[str, Any] = {
                "regular_price": "12.00",
                "attributes": [{"name": "Colour", "option": option}],
            }
            if image:
                vbody["image"] = {"id": image}
            made[option] = int(self.wc("POST", f"products/{pid}/variations", vbody)["id"])
        return pid, made

    def photo(self, name: str) -> int:
        """A real example photo uploaded as a new attachment."""
        return self.upload((EXAMPLES / name).read_bytes(), name)

    def shown(self, product_id: int) -> list[int]:
        """Attachment ids the product shows, in order."""
        return [int(i["id"]) for i in self.wc("GET", f"products/{product_id}")["images"]]

    def variation_images(self, product_id: int) -> dict[int, int | None]:
        """Variation id → the attachment id it has itself (``context=edit``: in ``view`` a variation
        without one reports its parent's featured image)."""
        return {
            int(v["id"]): (int(v["image"]["id"]) if v.get("image") else None)
            for v in self.wc("GET", f"products/{product_id}/variations", per_page=100, context="edit")
        }

    def cleanup(self) -> None:
        """Delete the products this test made."""
        while self.created:
            self.admin.delete(f"products/{self.created.pop()}", params={"force": "true"})


def wait_for(check: Callable[[], Any], store: ContractStore, timeout: float = 30.0) -> Any:
    """Push deliveries out and poll until ``check`` answers something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store.deliver()
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"nothing arrived within {timeout:.0f}s on the {store.kind} store")


def example(name: str) -> Path:
    """Path of an example photo."""
    return EXAMPLES / name
