"""ShopifyClient against a scripted GraphQL endpoint: sync shapes, idempotent replacement steps, webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from adapters.shopify import ShopifyClient
from adapters.shopify import documents as docs
from connector.errors import ConnectorError, MediaFailed, NotFound, PlatformError, TransientError
from connector.port import MediaState
from tests.unit.shopify_fakes import CONFIG, SHOP, FakeClock, ScriptedGraphQL, credentials

pytestmark = pytest.mark.unit

P1 = "gid://shopify/Product/1"
CDN = "https://cdn.shopify.com/s/files/1/0001/files"


def image(n: int, alt: str | None = None, status: str = "READY") -> dict[str, Any]:
    return {
        "id": f"gid://shopify/MediaImage/{n}",
        "alt": alt,
        "status": status,
        "mediaContentType": "IMAGE",
        "image": {"url": f"{CDN}/photo-{n}.jpg?v=17"},
    }


VIDEO = {"id": "gid://shopify/Video/9", "alt": "", "status": "READY", "mediaContentType": "VIDEO"}


def page(nodes: list[Any], more: bool = False, cursor: str | None = None) -> dict[str, Any]:
    return {"pageInfo": {"hasNextPage": more, "endCursor": cursor}, "nodes": nodes}


def variant(n: int, *media: int) -> dict[str, Any]:
    return {"id": f"gid://shopify/ProductVariant/{n}", "media": {"nodes": [image(m) for m in media]}}


class MiniProduct:
    """One product's media order and variant links, changed by the scripted mutations."""

    def __init__(self, media: list[dict[str, Any]], variants: dict[int, list[int]]) -> None:
        self.media = media
        self.variants = {
            f"gid://shopify/ProductVariant/{v}": [image(m)["id"] for m in ms] for v, ms in variants.items()
        }

    def serve(self, script: ScriptedGraphQL) -> MiniProduct:
        """Answer both reads of the product: the whole product, and the order of its media alone."""
        script.on("Product", self.node)
        script.on("ProductMediaIds", self.media_ids)
        return self

    def media_ids(self, _variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"product": {"media": page([{"id": m["id"]} for m in self.media])}}

    def node(self, _variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "product": {
                "id": P1,
                "title": "Shirt",
                "handle": "shirt",
                "updatedAt": "2025-03-01T10:00:00Z",
                "media": page(self.media),
                "variants": page(
                    [
                        {"id": v, "media": {"nodes": [{"id": m} for m in ms]}}
                        for v, ms in self.variants.items()
                    ]
                ),
            }
        }


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def script(rsps: responses.RequestsMock) -> Iterator[ScriptedGraphQL]:
    scripted = ScriptedGraphQL(rsps)
    yield scripted
    registered = set(docs.ALL.values())
    assert all(d in registered for d in scripted.documents), "the client sent a document not in documents.py"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> ShopifyClient:
    return ShopifyClient(CONFIG, SHOP, credentials(), runtime=clock.runtime())


# ------------------------------------------------------------------------------ sync


def test_paged_sync_reads_every_product_media_and_variant(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    first = {
        "id": P1,
        "title": "Shirt",
        "handle": "shirt",
        "updatedAt": "2025-03-01T10:00:00Z",
        "media": page([image(1, "front"), VIDEO], more=True, cursor="m2"),
        "variants": page([variant(11, 3)], more=True, cursor="v1"),
    }
    second = {
        "id": "gid://shopify/Product/2",
        "title": "Mug",
        "handle": "mug",
        "updatedAt": "2025-03-02T10:00:00Z",
        "media": page([]),
        "variants": page([variant(21)]),
    }
    script.on(
        "ProductsPage",
        lambda v: (
            {"products": page([first], True, "c1")} if v["after"] is None else {"products": page([second])}
        ),
    )
    script.on("ProductMediaPage", {"product": {"media": page([image(3, status="PROCESSING")])}})
    script.on("ProductVariantsPage", {"product": {"variants": page([variant(12, 1), variant(13)])}})

    since = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    products = list(client.iter_products_paged(since))

    assert [p.product_id for p in products] == [P1, "gid://shopify/Product/2"]
    shirt = products[0]
    assert shirt.updated_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert shirt.variant_ids == tuple(f"gid://shopify/ProductVariant/{n}" for n in (11, 12, 13))
    assert [(i.media_id, i.position, i.alt, i.state) for i in shirt.images] == [
        ("gid://shopify/MediaImage/1", 0, "front", MediaState.READY),
        ("gid://shopify/MediaImage/3", 2, None, MediaState.PROCESSING),  # the video holds position 1
    ]
    assert shirt.images[0].variant_ids == ("gid://shopify/ProductVariant/12",)
    assert shirt.images[1].variant_ids == ("gid://shopify/ProductVariant/11",)
    assert shirt.images[0].filename == "photo-1.jpg"
    assert shirt.images[0].src == f"{CDN}/photo-1.jpg?v=17"
    pages = script.variables("ProductsPage")
    assert [p["after"] for p in pages] == [None, "c1"]
    assert pages[0]["query"] == "updated_at:>'2025-01-02T03:04:05Z'"
    assert pages[0]["first"] == client.page_size
    assert script.variables("ProductMediaPage")[0]["after"] == "m2"


def test_get_product_is_none_when_deleted(script: ScriptedGraphQL, client: ShopifyClient) -> None:
    script.on("Product", {"product": None})
    assert client.get_product("gid://shopify/Product/404") is None


class FakeBulk:
    """Bulk operations as Shopify runs them: one at a time, RUNNING for two polls, then a JSONL URL."""

    def __init__(self, exports: dict[str, list[dict[str, Any]]], busy_first: bool = True) -> None:
        self.exports = exports  # bulk query text -> rows of its JSONL
        self.queries: list[str] = []
        self.busy = busy_first  # someone else's export is still running at first
        self.polls = 0

    def run(self, variables: dict[str, Any]) -> dict[str, Any]:
        if self.busy:
            error = {"field": None, "message": "already in progress", "code": "OPERATION_IN_PROGRESS"}
            return {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [error]}}
        self.queries.append(variables["query"])
        self.polls = 0
        operation = {"id": f"gid://shopify/BulkOperation/{len(self.queries)}", "status": "CREATED"}
        return {"bulkOperationRunQuery": {"bulkOperation": operation, "userErrors": []}}

    def current(self, _variables: dict[str, Any]) -> dict[str, Any]:
        self.polls += 1
        if self.busy:
            self.busy = self.polls < 2
            status, number, url = ("RUNNING" if self.busy else "COMPLETED"), 0, None
        else:
            number = len(self.queries)
            status = "COMPLETED" if self.polls > 2 else "RUNNING"
            url = f"https://storage.example/{number}.jsonl" if status == "COMPLETED" else None
        operation = {"id": f"gid://shopify/BulkOperation/{number}", "status": status, "errorCode": None}
        return {"currentBulkOperation": {**operation, "objectCount": "9", "url": url, "partialDataUrl": None}}

    def serve(self, rsps: responses.RequestsMock) -> None:
        for number, rows in enumerate(self.exports.values(), start=1):
            body = "".join(json.dumps(r) + "\n" for r in rows)
            rsps.add(responses.GET, f"https://storage.example/{number}.jsonl", body=body)


def test_large_shops_sync_by_bulk_operations(
    script: ScriptedGraphQL, rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    client = ShopifyClient(replace(CONFIG, bulk_threshold=3), SHOP, credentials(), runtime=clock.runtime())
    mug = "gid://shopify/Product/2"
    v11 = "gid://shopify/ProductVariant/11"
    bulk = FakeBulk(
        {
            docs.bulk_products_query(None): [
                {"id": P1, "title": "Shirt", "handle": "shirt", "updatedAt": "2025-03-01T10:00:00Z"},
                {**image(1, "front"), "__parentId": P1},
                {**VIDEO, "__parentId": P1},
                {"id": v11, "__parentId": P1},
                {"id": mug, "title": "Mug", "handle": "mug", "updatedAt": "2025-03-02T10:00:00Z"},
                {**image(2), "__parentId": mug},
                {**image(3), "__parentId": P1},
            ],
            docs.bulk_variant_media_query(): [
                {"id": v11, "product": {"id": P1}},
                {"id": image(3)["id"], "__parentId": v11},
            ],
        }
    )
    bulk.serve(rsps)
    script.on("ProductsCount", {"productsCount": {"count": 3, "precision": "EXACT"}})
    script.on("BulkProductsRun", bulk.run)
    script.on("CurrentBulkOperation", bulk.current)

    products = list(client.iter_products())

    assert "ProductsPage" not in script.names()
    assert bulk.queries == list(bulk.exports)  # waited for the foreign export, then ran both in turn
    assert [p.title for p in products] == ["Shirt", "Mug"]
    shirt = products[0]
    assert [(i.media_id, i.position) for i in shirt.images] == [(image(1)["id"], 0), (image(3)["id"], 2)]
    assert shirt.images[1].variant_ids == (v11,)
    assert shirt.variant_ids == (v11,)
    downloads = [c.request for c in rsps.calls if "storage.example" in (c.request.url or "")]
    assert len(downloads) == 2 and all("X-Shopify-Access-Token" not in r.headers for r in downloads)
    assert len(clock.sleeps) >= 4


def test_a_failed_bulk_export_is_transient(script: ScriptedGraphQL, client: ShopifyClient) -> None:
    script.on(
        "BulkProductsRun",
        {
            "bulkOperationRunQuery": {
                "bulkOperation": {"id": "gid://shopify/BulkOperation/5", "status": "CREATED"},
                "userErrors": [],
            }
        },
    )
    script.on(
        "CurrentBulkOperation",
        {
            "currentBulkOperation": {
                "id": "gid://shopify/BulkOperation/5",
                "status": "FAILED",
                "errorCode": "TIMEOUT",
                "objectCount": "0",
                "url": None,
                "partialDataUrl": None,
            }
        },
    )
    with pytest.raises(TransientError, match="TIMEOUT"):
        list(client.iter_products_bulk())


# ----------------------------------------------------------------------- uploads


def test_upload_stages_posts_the_file_last_and_creates_the_file(
    script: ScriptedGraphQL, rsps: responses.RequestsMock, client: ShopifyClient
) -> None:
    target = "https://shopify-staged-uploads.storage.googleapis.com/"
    resource = target + "tmp/1/products/op-42.png"
    script.on("FilesByName", {"files": {"nodes": []}})
    script.on(
        "StagedUploadsCreate",
        {
            "stagedUploadsCreate": {
                "stagedTargets": [
                    {
                        "url": target,
                        "resourceUrl": resource,
                        "parameters": [
                            {"name": "key", "value": "tmp/1/products/op-42.png"},
                            {"name": "policy", "value": "abc"},
                        ],
                    }
                ],
                "userErrors": [],
            }
        },
    )
    script.on(
        "FileCreate",
        {
            "fileCreate": {
                "files": [{"id": "gid://shopify/MediaImage/77", "fileStatus": "UPLOADED", "alt": "front"}],
                "userErrors": [],
            }
        },
    )
    rsps.add(responses.POST, target, status=204)

    media_id = client.upload_media(P1, b"\x89PNG-bytes", "op-42.png", "image/png", "front")

    assert media_id == "gid://shopify/MediaImage/77"
    assert script.variables("FilesByName") == [{"query": 'filename:"op-42.png"'}]
    assert script.variables("StagedUploadsCreate")[0]["input"] == [
        {
            "resource": "IMAGE",
            "filename": "op-42.png",
            "mimeType": "image/png",
            "httpMethod": "POST",
            "fileSize": "10",
        }
    ]
    created = script.variables("FileCreate")[0]["files"][0]
    assert created["originalSource"] == resource
    assert (created["contentType"], created["alt"], created["filename"]) == ("IMAGE", "front", "op-42.png")
    upload = next(c.request for c in rsps.calls if c.request.url == target)
    body = upload.body
    assert isinstance(body, bytes)
    assert body.index(b'name="key"') < body.index(b'name="policy"') < body.index(b'name="file"')
    assert b"\x89PNG-bytes" in body
    assert "X-Shopify-Access-Token" not in upload.headers


def test_an_earlier_upload_under_the_same_name_is_reused(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    script.on(
        "FilesByName",
        {
            "files": {
                "nodes": [
                    {
                        "id": "gid://shopify/MediaImage/5",
                        "image": {"url": f"{CDN}/op-42-old.png"},
                        "originalSource": None,
                    },
                    {
                        "id": "gid://shopify/MediaImage/6",
                        "image": {"url": f"{CDN}/op-42.png?v=1"},
                        "originalSource": None,
                    },
                ]
            }
        },
    )
    assert client.upload_media(P1, b"x", "op-42.png", "image/png", None) == "gid://shopify/MediaImage/6"
    assert script.names() == ["FilesByName"]


def test_a_file_shopify_failed_is_a_permanent_error_with_its_reason(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    failed = {
        "id": "gid://shopify/MediaImage/7",
        "image": None,
        "originalSource": None,
        "fileStatus": "FAILED",
        "fileErrors": [{"code": "UNSUPPORTED_IMAGE_FILE_TYPE", "message": "bad file", "details": None}],
    }
    script.on("FilesByName", {"files": {"nodes": [failed]}})
    with pytest.raises(MediaFailed, match="UNSUPPORTED_IMAGE_FILE_TYPE: bad file"):
        client.find_media("op-43.png")  # not "still processing": a retry cannot help


def test_a_duplicate_filename_at_create_finds_the_existing_file(
    script: ScriptedGraphQL, rsps: responses.RequestsMock, client: ShopifyClient
) -> None:
    lookups = iter(
        [
            {"files": {"nodes": []}},
            {
                "files": {
                    "nodes": [
                        {
                            "id": "gid://shopify/MediaImage/8",
                            "image": None,
                            "originalSource": {"url": "https://s/op-1.png"},
                        }
                    ]
                }
            },
        ]
    )
    script.on("FilesByName", lambda _v: next(lookups))
    script.on(
        "StagedUploadsCreate",
        {
            "stagedUploadsCreate": {
                "stagedTargets": [
                    {"url": "https://s/", "resourceUrl": "https://s/op-1.png", "parameters": []}
                ],
                "userErrors": [],
            }
        },
    )
    script.on(
        "FileCreate",
        {
            "fileCreate": {
                "files": [],
                "userErrors": [
                    {"field": ["files", "0"], "message": "exists", "code": "FILENAME_ALREADY_EXISTS"}
                ],
            }
        },
    )
    rsps.add(responses.POST, "https://s/", status=201)
    assert client.upload_media(P1, b"x", "op-1.png", "image/png", None) == "gid://shopify/MediaImage/8"


def test_a_file_still_processing_blocks_a_second_upload(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    processing = {"id": "gid://shopify/MediaImage/9", "image": None, "originalSource": None}
    script.on("FilesByName", {"files": {"nodes": [processing]}})
    with pytest.raises(TransientError, match="processed"):
        client.upload_media(P1, b"x", "op-9.png", "image/png", None)
    assert script.names() == ["FilesByName"]


def test_media_status_reports_ready_failed_and_missing(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    answers = iter(
        [
            {
                "nodes": [
                    {
                        "id": "m",
                        "alt": "",
                        "status": "READY",
                        "fileStatus": "READY",
                        "image": {"url": "https://cdn/x.png"},
                        "mediaErrors": [],
                        "fileErrors": [],
                    }
                ]
            },
            {
                "nodes": [
                    {
                        "id": "m",
                        "alt": "",
                        "status": "FAILED",
                        "fileStatus": "FAILED",
                        "image": None,
                        "mediaErrors": [
                            {"code": "UNSUPPORTED_IMAGE_FILE_TYPE", "message": "bad type", "details": None}
                        ],
                        "fileErrors": [],
                    }
                ]
            },
            {"nodes": [None]},
            {"nodes": [None]},
        ]
    )
    script.on("MediaNodes", lambda _v: next(answers))
    ready = client.media_status("m")
    assert (ready.state, ready.src, ready.error) == (MediaState.READY, "https://cdn/x.png", None)
    failed = client.media_status("m")
    assert failed.state is MediaState.FAILED and "UNSUPPORTED_IMAGE_FILE_TYPE" in (failed.error or "")
    with pytest.raises(NotFound):
        client.media_status("m")
    assert client.media_exists("m") is False


# ------------------------------------------------------------- replacement steps


def test_attach_and_detach_are_no_ops_when_already_done(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    MiniProduct([image(1)], {}).serve(script)
    client.attach_media(P1, image(1)["id"])
    client.detach_media(P1, image(2)["id"])
    assert script.names() == ["ProductMediaIds", "ProductMediaIds"]  # the cheap read: a few points


def test_attach_and_detach_use_file_references(script: ScriptedGraphQL, client: ShopifyClient) -> None:
    MiniProduct([image(1)], {}).serve(script)
    script.on("FileUpdate", {"fileUpdate": {"files": [], "userErrors": []}})
    client.attach_media(P1, image(2)["id"])
    client.detach_media(P1, image(1)["id"])
    assert [v["files"] for v in script.variables("FileUpdate")] == [
        [{"id": image(2)["id"], "referencesToAdd": [P1]}],
        [{"id": image(1)["id"], "referencesToRemove": [P1]}],
    ]


def test_move_waits_for_the_reorder_job(
    script: ScriptedGraphQL, client: ShopifyClient, clock: FakeClock
) -> None:
    MiniProduct([image(1), image(2), image(3)], {}).serve(script)
    script.on(
        "ProductReorderMedia",
        {"productReorderMedia": {"job": {"id": "gid://shopify/Job/1", "done": False}, "mediaUserErrors": []}},
    )
    done = iter([False, False, True])
    script.on("Job", lambda _v: {"job": {"id": "gid://shopify/Job/1", "done": next(done)}})
    client.move_media(P1, image(3)["id"], 0)
    assert script.variables("ProductReorderMedia") == [
        {"id": P1, "moves": [{"id": image(3)["id"], "newPosition": "0"}]}
    ]
    assert len(script.variables("Job")) == 3
    assert len(clock.sleeps) == 2


def test_move_is_a_no_op_in_place_and_clamps_positions(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    MiniProduct([image(1), image(2)], {}).serve(script)
    client.move_media(P1, image(2)["id"], 1)
    client.move_media(P1, image(2)["id"], 99)
    assert "ProductReorderMedia" not in script.names()
    with pytest.raises(NotFound):
        client.move_media(P1, image(5)["id"], 0)


def test_a_reorder_job_that_never_finishes_is_transient(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    MiniProduct([image(1), image(2)], {}).serve(script)
    script.on(
        "ProductReorderMedia",
        {"productReorderMedia": {"job": {"id": "j", "done": False}, "mediaUserErrors": []}},
    )
    script.on("Job", {"job": {"id": "j", "done": False}})
    with pytest.raises(TransientError, match="did not finish"):
        client.move_media(P1, image(2)["id"], 0)


def test_link_variants_moves_each_variant_to_the_new_media(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    MiniProduct([image(1), image(2)], {11: [1], 12: [], 13: [2]}).serve(script)
    script.on(
        "ProductVariantDetachMedia", {"productVariantDetachMedia": {"productVariants": [], "userErrors": []}}
    )
    script.on(
        "ProductVariantAppendMedia", {"productVariantAppendMedia": {"productVariants": [], "userErrors": []}}
    )
    v = "gid://shopify/ProductVariant/"
    client.link_variants(P1, image(2)["id"], (f"{v}11", f"{v}12", f"{v}13", f"{v}99"))
    assert script.variables("ProductVariantDetachMedia")[0]["variantMedia"] == [
        {"variantId": f"{v}11", "mediaIds": [image(1)["id"]]}
    ]
    assert script.variables("ProductVariantAppendMedia")[0]["variantMedia"] == [
        {"variantId": f"{v}11", "mediaIds": [image(2)["id"]]},
        {"variantId": f"{v}12", "mediaIds": [image(2)["id"]]},
    ]


def test_link_variants_is_a_no_op_when_linked(script: ScriptedGraphQL, client: ShopifyClient) -> None:
    MiniProduct([image(2)], {13: [2]}).serve(script)
    client.link_variants(P1, image(2)["id"], ("gid://shopify/ProductVariant/13",))
    assert script.names() == ["Product"]


@pytest.mark.parametrize(
    ("code", "error"),
    [("FILE_DOES_NOT_EXIST", NotFound), ("NON_READY_STATE", TransientError), ("INVALID", PlatformError)],
)
def test_user_errors_map_to_the_error_hierarchy(
    script: ScriptedGraphQL, client: ShopifyClient, code: str, error: type[ConnectorError]
) -> None:
    MiniProduct([], {}).serve(script)
    script.on(
        "FileUpdate",
        {"fileUpdate": {"files": [], "userErrors": [{"field": ["files"], "message": "no", "code": code}]}},
    )
    with pytest.raises(error) as info:
        client.attach_media(P1, image(1)["id"])
    assert code in str(info.value) and info.value.hint


# ---------------------------------------------------------------- bytes, webhooks


def test_fetch_bytes_downloads_without_credentials_and_bounds_size(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    rsps.add(responses.GET, f"{CDN}/a.jpg", body=b"jpeg-bytes")
    rsps.add(responses.GET, f"{CDN}/big.jpg", body=b"x" * 2048)
    rsps.add(responses.GET, f"{CDN}/gone.jpg", status=404)
    client = ShopifyClient(
        replace(CONFIG, max_download_bytes=1024), SHOP, credentials(), runtime=clock.runtime()
    )
    assert client.fetch_bytes(f"{CDN}/a.jpg") == b"jpeg-bytes"
    assert "X-Shopify-Access-Token" not in rsps.calls[0].request.headers
    with pytest.raises(PlatformError, match="larger"):
        client.fetch_bytes(f"{CDN}/big.jpg")
    with pytest.raises(NotFound):
        client.fetch_bytes(f"{CDN}/gone.jpg")


def test_register_webhooks_creates_missing_moves_stale_and_is_idempotent(
    script: ScriptedGraphQL, client: ShopifyClient
) -> None:
    url = "https://connector.example/webhooks/shopify"
    subs: list[dict[str, Any]] = [
        {
            "id": "w1",
            "topic": "PRODUCTS_CREATE",
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": url},
        },
        {
            "id": "w2",
            "topic": "PRODUCTS_UPDATE",
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": "https://old/x"},
        },
    ]

    def create(v: dict[str, Any]) -> dict[str, Any]:
        subs.append(
            {
                "id": f"w{len(subs) + 1}",
                "topic": v["topic"],
                "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": v["sub"]["callbackUrl"]},
            }
        )
        return {
            "webhookSubscriptionCreate": {
                "webhookSubscription": {"id": subs[-1]["id"], "topic": v["topic"]},
                "userErrors": [],
            }
        }

    def update(v: dict[str, Any]) -> dict[str, Any]:
        next(s for s in subs if s["id"] == v["id"])["endpoint"]["callbackUrl"] = v["sub"]["callbackUrl"]
        return {
            "webhookSubscriptionUpdate": {
                "webhookSubscription": {"id": v["id"], "topic": "PRODUCTS_UPDATE"},
                "userErrors": [],
            }
        }

    script.on("WebhookSubscriptions", lambda _v: {"webhookSubscriptions": page(list(subs))})
    script.on("WebhookSubscriptionCreate", create)
    script.on("WebhookSubscriptionUpdate", update)

    client.register_webhooks(url)
    assert sorted(v["topic"] for v in script.variables("WebhookSubscriptionCreate")) == [
        "APP_UNINSTALLED",
        "PRODUCTS_DELETE",
    ]
    assert script.variables("WebhookSubscriptionUpdate") == [
        {"id": "w2", "sub": {"callbackUrl": url, "format": "JSON"}}
    ]

    before = len(script.sent)
    client.register_webhooks(url)
    assert script.names()[before:] == ["WebhookSubscriptions"]


def test_media_order_reads_only_ids_page_by_page(script: ScriptedGraphQL, client: ShopifyClient) -> None:
    pages = iter([page([{"id": image(1)["id"]}], more=True, cursor="c1"), page([{"id": image(2)["id"]}])])
    script.on("ProductMediaIds", lambda _v: {"product": {"media": next(pages)}})
    assert client.media_order(P1) == [image(1)["id"], image(2)["id"]]
    assert [v["after"] for v in script.variables("ProductMediaIds")] == [None, "c1"]


def test_media_order_of_a_deleted_product_is_none(script: ScriptedGraphQL, client: ShopifyClient) -> None:
    script.on("ProductMediaIds", {"product": None})
    assert client.media_order(P1) is None
