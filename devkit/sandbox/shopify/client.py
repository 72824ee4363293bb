"""Small HTTP helpers for tests and demos that drive a running Shopify sandbox.

:class:`SandboxAdmin` wraps the ``/__sandbox`` admin routes, :class:`AdminGraphQL` posts GraphQL
documents for one shop and token, and :class:`WebhookSink` is a loopback receiver that records
deliveries (optionally failing or stalling some of them).
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, request
from PIL import Image
from werkzeug.datastructures import Headers

from sandbox.common.serve import Served, serve
from sandbox.shopify.config import API_VERSION


class SandboxAdmin:
    """The ``/__sandbox`` routes of a sandbox at ``base_url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.http.request(method, f"{self.base_url}/__sandbox{path}", timeout=self.timeout, **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError(f"sandbox admin {method} {path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, json=body or {})

    def put(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("PUT", path, json=body or {})

    def patch(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("PATCH", path, json=body or {})

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    # --- shortcuts -----------------------------------------------------------------------

    def create_shop(self, shop: str, seed: int = 1, size: int = 20, profile: str = "mixed") -> dict[str, Any]:
        return self.post("/shops", {"shop": shop, "seed": seed, "size": size, "profile": profile})

    def token(self, shop: str, **options: Any) -> dict[str, Any]:
        """Install the (default) app and get tokens: ``access_token``, ``refresh_token``, ``expires_in``…"""
        return self.post(f"/shops/{shop}/tokens", options)

    def product(self, shop: str, product_id: str) -> dict[str, Any]:
        return self.get(f"/shops/{shop}/products/{product_id.rsplit('/', 1)[-1]}")

    def run_pending(self) -> dict[str, int]:
        return self.post("/run-pending")

    def deliveries(self, shop: str, topic: str | None = None) -> list[dict[str, Any]]:
        params = {"topic": topic} if topic else {}
        return self.get(f"/shops/{shop}/deliveries", **params)

    def faults(self, **config: Any) -> dict[str, Any]:
        return self.put("/faults", config)


class GraphQLFailure(RuntimeError):
    """A GraphQL answer with top-level errors."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("errors")))
        self.body = body


class AdminGraphQL:
    """Posts GraphQL documents to one shop's Admin API endpoint."""

    def __init__(self, base_url: str, shop: str, token: str, version: str = API_VERSION) -> None:
        self.url = f"{base_url.rstrip('/')}/{shop}/admin/api/{version}/graphql.json"
        self.token = token
        self.http = requests.Session()

    def post(self, query: str, variables: dict[str, Any] | None = None) -> requests.Response:
        """The raw HTTP answer."""
        return self.http.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": self.token},
            timeout=30,
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """``data`` of a successful answer; raises :class:`GraphQLFailure` on top-level errors."""
        body: dict[str, Any] = self.post(query, variables).json()
        if body.get("errors"):
            raise GraphQLFailure(body)
        return body["data"]


STAGED_UPLOAD = """
mutation Stage($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}"""


def _files_mutation(action: str) -> str:
    """``file<action>`` over a list of ``File<action>Input``: the files and any user errors."""
    return f"""
mutation {action}($files: [File{action}Input!]!) {{
  file{action}(files: $files) {{
    files {{ id fileStatus alt }}
    userErrors {{ field message code }}
  }}
}}"""


FILE_CREATE = _files_mutation("Create")
FILE_UPDATE = _files_mutation("Update")

MEDIA_STATUS = """
query Media($id: ID!) {
  node(id: $id) {
    ... on MediaImage {
      id alt status fileStatus image { url width height } mediaErrors { code message }
      fileErrors { code } preview { status } originalSource { url fileSize }
    }
  }
}"""


def upload_image(gql: AdminGraphQL, data: bytes, filename: str, mime: str, alt: str = "") -> str:
    """The full write path up to ``fileCreate``: staged target, form POST, file; the new file's id."""
    staged = gql(
        STAGED_UPLOAD,
        {
            "input": [
                {
                    "resource": "IMAGE",
                    "filename": filename,
                    "mimeType": mime,
                    "httpMethod": "POST",
                    "fileSize": str(len(data)),
                }
            ]
        },
    )["stagedUploadsCreate"]
    if staged["userErrors"]:
        raise RuntimeError(f"stagedUploadsCreate refused: {staged['userErrors']}")
    target = staged["stagedTargets"][0]
    form = {p["name"]: p["value"] for p in target["parameters"]}
    resp = requests.post(target["url"], data=form, files={"file": (filename, data, mime)}, timeout=30)
    if resp.status_code not in (200, 201, 204):
        raise RuntimeError(f"staged upload refused: {resp.status_code} {resp.text}")
    created = gql(
        FILE_CREATE,
        {"files": [{"originalSource": target["resourceUrl"], "contentType": "IMAGE", "alt": alt}]},
    )
    if created["fileCreate"]["userErrors"]:
        raise RuntimeError(f"fileCreate refused: {created['fileCreate']['userErrors']}")
    return str(created["fileCreate"]["files"][0]["id"])


def wait_for_media(
    gql: AdminGraphQL, media_id: str, wanted: set[str], timeout: float = 5.0
) -> dict[str, Any]:
    """Poll a MediaImage until its status is one of ``wanted`` (or ``timeout``); the last answer."""
    deadline = time.time() + timeout
    while True:
        node: dict[str, Any] = gql(MEDIA_STATUS, {"id": media_id})["node"]
        if node is None or node["status"] in wanted or time.time() > deadline:
            return node
        time.sleep(0.03)


def solid_png(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    """A small valid PNG (a different colour gives different bytes)."""
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Received:
    """One webhook delivery as the receiver saw it."""

    headers: Headers  # case-insensitive, like any HTTP server's view
    body: bytes
    at: float


@dataclass
class WebhookSink:
    """A loopback webhook receiver; ``respond(received) -> status`` decides each answer (default 200)."""

    respond: Callable[[Received], int] = field(default=lambda _r: 200)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    _served: Served | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookSink:
        app = Flask("webhook-sink")

        @app.post("/<path:_path>")
        def hook(_path: str) -> Response:
            item = Received(Headers(request.headers), request.get_data(), time.time())
            with self._lock:
                self.received.append(item)
            if self.delay:
                time.sleep(self.delay)
            return Response("", status=self.respond(item))

        self._served = serve(app)
        return self

    @property
    def url(self) -> str:
        assert self._served is not None, "start() the sink first"
        return f"{self._served.url}/webhooks"

    def wait_for(self, count: int, timeout: float = 10.0, topic: str | None = None) -> list[Received]:
        """Block until ``count`` deliveries (of ``topic``) arrived; returns them."""
        deadline = time.time() + timeout
        while True:
            with self._lock:
                got = [r for r in self.received if topic is None or r.headers.get("X-Shopify-Topic") == topic]
            if len(got) >= count or time.time() > deadline:
                return got
            time.sleep(0.02)

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()


def b64(data: bytes) -> str:
    """Base64 text for the admin routes that take image bytes."""
    return base64.b64encode(data).decode()
