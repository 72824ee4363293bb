"""The Shopify sandbox's image write path over HTTP: staged uploads, processing, references, variants."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image, ImageOps
from sandbox.seeds import catalog, photos
from sandbox.shopify import fast_config, start
from sandbox.shopify.client import (
    FILE_UPDATE,
    MEDIA_STATUS,
    STAGED_UPLOAD,
    AdminGraphQL,
    SandboxAdmin,
    b64,
    solid_png,
    upload_image,
    wait_for_media,
)
from sandbox.shopify.media import seed_dimensions

from tests.integration.shopify_sandbox_support import shop_fixtures

pytestmark = pytest.mark.integration

PRODUCT = """
query($id: ID!) {
  product(id: $id) {
    id updatedAt
    media(first: 20) { nodes { ... on MediaImage { id status alt } } }
    variants(first: 20) { nodes { id title media(first: 1) { nodes { id } } } }
  }
}"""
REORDER = """
mutation($id: ID!, $moves: [MoveInput!]!) {
  productReorderMedia(id: $id, moves: $moves) { job { id done } mediaUserErrors { field message code } }
}"""
APPEND = """
mutation($pid: ID!, $vm: [ProductVariantAppendMediaInput!]!) {
  productVariantAppendMedia(productId: $pid, variantMedia: $vm) {
    productVariants { id media(first: 1) { nodes { id } } } userErrors { field message code }
  }
}"""
DETACH = """
mutation($pid: ID!, $vm: [ProductVariantDetachMediaInput!]!) {
  productVariantDetachMedia(productId: $pid, variantMedia: $vm) { userErrors { field message code } }
}"""


@pytest.fixture(scope="module")
def running() -> Iterator[Any]:
    with start(fast_config()) as sandbox:
        yield sandbox


admin, shop, gql = shop_fixtures("m", seed=3, size=40, profile="mixed")


def product_with_variant_image(admin: SandboxAdmin, shop: str) -> dict[str, Any]:
    product: dict[str, Any]
    for product in admin.get(f"/shops/{shop}/products"):
        linked = [v for v in product["variants"] if v["media_id"]]
        if linked and len(product["media"]) >= 2:
            return product
    raise AssertionError("the seeded catalog has no product with a variant image")


def test_upload_goes_uploaded_processing_ready_and_is_served(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    data = solid_png()
    media_id = upload_image(gql, data, "replacement-k1.png", "image/png", alt="Red square")
    first = gql(MEDIA_STATUS, {"id": media_id})["node"]
    assert (
        first["status"] == "UPLOADED" and first["image"] is None and first["preview"]["status"] == "UPLOADED"
    )
    seen = {first["status"]}
    deadline = time.time() + 5
    while time.time() < deadline:
        node = gql(MEDIA_STATUS, {"id": media_id})["node"]
        seen.add(node["status"])
        if node["status"] == "READY":
            break
        time.sleep(0.02)
    assert node["status"] == node["fileStatus"] == "READY"
    assert "PROCESSING" in seen
    assert (node["image"]["width"], node["image"]["height"]) == (64, 48)
    assert node["alt"] == "Red square" and node["originalSource"]["fileSize"] == len(data)
    served = requests.get(node["image"]["url"], timeout=10)
    assert served.status_code == 200 and served.content == data
    assert served.headers["Content-Type"] == "image/png"
    uploads = admin.get(f"/shops/{shop}/uploads")
    staged = [u for u in uploads if u["kind"] == "staged"]
    assert staged[-1]["sha256"] == hashlib.sha256(data).hexdigest()
    made = [u for u in uploads if u["kind"] == "file"]
    assert made[-1]["result"] == "READY" and made[-1]["filename"] == "replacement-k1.png"
    found = gql('{ files(first: 5, query: "filename:replacement-k1.png") { nodes { id } } }')["files"][
        "nodes"
    ]
    assert [f["id"] for f in found] == [media_id]


def test_undecodable_bytes_fail_with_media_errors(gql: AdminGraphQL, admin: SandboxAdmin) -> None:
    media_id = upload_image(gql, b"<html>not an image</html>", "broken.jpg", "image/jpeg")
    admin.run_pending()
    node = gql(MEDIA_STATUS, {"id": media_id})["node"]
    assert node["status"] == "FAILED" and node["image"] is None
    assert node["mediaErrors"][0]["code"] == "IMAGE_PROCESSING_FAILURE"
    assert node["fileErrors"][0]["code"] == "IMAGE_PROCESSING_FAILURE"


def test_staged_upload_enforces_its_policy(gql: AdminGraphQL) -> None:
    bad = gql(
        STAGED_UPLOAD, {"input": [{"resource": "IMAGE", "filename": "a.txt", "mimeType": "text/plain"}]}
    )
    assert bad["stagedUploadsCreate"]["userErrors"][0]["field"] == ["input", "0", "mimeType"]

    data = solid_png()
    staged = gql(
        STAGED_UPLOAD,
        {
            "input": [
                {
                    "resource": "IMAGE",
                    "filename": "x.png",
                    "mimeType": "image/png",
                    "httpMethod": "POST",
                    "fileSize": "100",
                }
            ]
        },
    )
    target = staged["stagedUploadsCreate"]["stagedTargets"][0]
    form = {p["name"]: p["value"] for p in target["parameters"]}
    assert {"key", "policy", "x-goog-signature", "Content-Type"} <= set(form)
    tampered = requests.post(
        target["url"],
        data={**form, "key": "tmp/other"},
        files={"file": ("x.png", data, "image/png")},
        timeout=10,
    )
    assert tampered.status_code == 403 and b"AccessDenied" in tampered.content
    too_big = requests.post(
        target["url"], data=form, files={"file": ("x.png", data, "image/png")}, timeout=10
    )
    assert too_big.status_code == 400 and b"EntityTooLarge" in too_big.content

    ok = gql(
        STAGED_UPLOAD,
        {
            "input": [
                {"resource": "IMAGE", "filename": "y.png", "mimeType": "image/png", "httpMethod": "POST"}
            ]
        },
    )["stagedUploadsCreate"]["stagedTargets"][0]
    fields = [(p["name"], (None, p["value"])) for p in ok["parameters"]]
    file_first = requests.post(ok["url"], files=[("file", ("y.png", data, "image/png")), *fields], timeout=10)
    assert file_first.status_code == 400, "the file part must come last"
    accepted = requests.post(
        ok["url"],
        data={p["name"]: p["value"] for p in ok["parameters"]},
        files={"file": ("y.png", data)},
        timeout=10,
    )
    assert accepted.status_code == 201 and b"<PostResponse>" in accepted.content


def test_replace_flow_keeps_positions_variants_and_the_original_in_files(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    product = product_with_variant_image(admin, shop)
    pid = product["id"]
    variant = next(v for v in product["variants"] if v["media_id"])
    original = variant["media_id"]
    slot = next(m["position"] for m in product["media"] if m["id"] == original)

    new_id = upload_image(gql, solid_png((10, 200, 10)), "new-slot.png", "image/png")
    early = gql(FILE_UPDATE, {"files": [{"id": new_id, "referencesToAdd": [pid]}]})["fileUpdate"]
    assert early["userErrors"][0]["code"] == "NON_READY_STATE", "a file is attached only once READY"
    assert wait_for_media(gql, new_id, {"READY"})["status"] == "READY"

    attached = gql(FILE_UPDATE, {"files": [{"id": new_id, "referencesToAdd": [pid], "alt": "kept alt"}]})[
        "fileUpdate"
    ]
    assert attached["userErrors"] == []
    media = [m["id"] for m in gql(PRODUCT, {"id": pid})["product"]["media"]["nodes"]]
    assert media[-1] == new_id

    job = gql(REORDER, {"id": pid, "moves": [{"id": new_id, "newPosition": str(slot)}]})[
        "productReorderMedia"
    ]
    assert job["mediaUserErrors"] == [] and job["job"]["done"] is False
    deadline = time.time() + 5
    while not gql("query($id: ID!) { job(id: $id) { done } }", {"id": job["job"]["id"]})["job"]["done"]:
        assert time.time() < deadline, "the reorder job never finished"
        time.sleep(0.02)
    media = [m["id"] for m in gql(PRODUCT, {"id": pid})["product"]["media"]["nodes"]]
    assert media.index(new_id) == slot

    taken = gql(APPEND, {"pid": pid, "vm": [{"variantId": variant["id"], "mediaIds": [new_id]}]})
    assert taken["productVariantAppendMedia"]["userErrors"][0]["code"] == "PRODUCT_VARIANT_ALREADY_HAS_MEDIA"
    gql(DETACH, {"pid": pid, "vm": [{"variantId": variant["id"], "mediaIds": [original]}]})
    linked = gql(APPEND, {"pid": pid, "vm": [{"variantId": variant["id"], "mediaIds": [new_id]}]})
    assert linked["productVariantAppendMedia"]["userErrors"] == []
    assert linked["productVariantAppendMedia"]["productVariants"][0]["media"]["nodes"] == [{"id": new_id}]

    removed = gql(FILE_UPDATE, {"files": [{"id": original, "referencesToRemove": [pid]}]})["fileUpdate"]
    assert removed["userErrors"] == []
    state = admin.product(shop, pid)
    assert [m["id"] for m in state["media"]].index(new_id) == slot
    assert original not in [m["id"] for m in state["media"]]
    assert next(v for v in state["variants"] if v["id"] == variant["id"])["media_id"] == new_id
    kept = gql(MEDIA_STATUS, {"id": original})["node"]
    assert kept is not None and kept["status"] == "READY", "a detached file stays in the Files library"
    assert requests.get(kept["image"]["url"], timeout=10).status_code == 200


def test_removing_media_from_a_product_drops_it_from_its_variants(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    product = product_with_variant_image(admin, shop)
    variant = next(v for v in product["variants"] if v["media_id"])
    gql(FILE_UPDATE, {"files": [{"id": variant["media_id"], "referencesToRemove": [product["id"]]}]})
    after = admin.product(shop, product["id"])
    assert all(v["media_id"] != variant["media_id"] for v in after["variants"])

    other = next(m["id"] for m in after["media"])
    deleted = gql(
        """mutation($p: ID!, $m: [ID!]!) { productDeleteMedia(productId: $p, mediaIds: $m) {
             deletedMediaIds mediaUserErrors { code } } }""",
        {"p": product["id"], "m": [other]},
    )["productDeleteMedia"]
    assert deleted["deletedMediaIds"] == [other]
    assert gql(MEDIA_STATUS, {"id": other})["node"] is None, "productDeleteMedia deletes the file itself"


def test_media_mutations_return_user_errors(gql: AdminGraphQL, admin: SandboxAdmin, shop: str) -> None:
    product = admin.get(f"/shops/{shop}/products")[0]
    foreign = "gid://shopify/MediaImage/1"
    reorder = gql(REORDER, {"id": product["id"], "moves": [{"id": foreign, "newPosition": "0"}]})[
        "productReorderMedia"
    ]
    assert reorder["job"] is None
    assert reorder["mediaUserErrors"][0]["code"] == "MEDIA_DOES_NOT_EXIST_ON_PRODUCT"
    missing = gql(FILE_UPDATE, {"files": [{"id": foreign, "alt": "x"}]})["fileUpdate"]
    assert missing["userErrors"][0]["code"] == "FILE_DOES_NOT_EXIST"
    too_long = gql(FILE_UPDATE, {"files": [{"id": product["media"][0]["id"], "alt": "x" * 513}]})[
        "fileUpdate"
    ]
    assert too_long["userErrors"][0]["code"] == "ALT_VALUE_LIMIT_EXCEEDED"
    rename = gql(FILE_UPDATE, {"files": [{"id": product["media"][0]["id"], "filename": "other.gif"}]})[
        "fileUpdate"
    ]
    assert rename["userErrors"][0]["code"] == "INVALID_FILENAME_EXTENSION", (
        "fileUpdate cannot change an extension"
    )
    nobody = gql(
        APPEND,
        {
            "pid": "gid://shopify/Product/1",
            "vm": [{"variantId": "gid://shopify/ProductVariant/1", "mediaIds": []}],
        },
    )
    assert nobody["productVariantAppendMedia"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"


def test_merchant_edits_change_what_the_store_shows(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    product = admin.get(f"/shops/{shop}/products")[1]
    pid = product["id"].rsplit("/", 1)[-1]
    first = product["media"][0]
    mid = first["id"].rsplit("/", 1)[-1]
    replaced = admin.put(f"/shops/{shop}/products/{pid}/media/{mid}", {"data": b64(solid_png((1, 2, 3)))})
    assert replaced["id"] == first["id"] and replaced["sha256"] != first["sha256"]
    assert replaced["version"] == first["version"] + 1 and replaced["status"] == "READY"
    assert requests.get(replaced["url"], timeout=10).content == solid_png((1, 2, 3))

    added = admin.post(f"/shops/{shop}/products/{pid}/media", {"kind": "on-white", "seed": 5, "position": 0})
    state = admin.product(shop, product["id"])
    assert state["media"][0]["id"] == added["id"] and added["origin"] == "merchant"
    order = [m["id"] for m in reversed(state["media"])]
    admin.post(f"/shops/{shop}/products/{pid}/reorder", {"media_ids": order})
    assert [m["id"] for m in admin.product(shop, product["id"])["media"]] == order


def test_seeded_images_render_lazily_at_their_predicted_size(admin: SandboxAdmin, shop: str) -> None:
    for kind in ("on-white", "tiny", "exif-rotated", "webp", "transparent-png"):
        image = catalog.SeedImage("k", kind, 11, "", f"x.{photos.extension(kind)}")
        with Image.open(io.BytesIO(image.render().data)) as im:
            assert ImageOps.exif_transpose(im).size == seed_dimensions(image), kind
    product = admin.get(f"/shops/{shop}/products")[0]
    media = product["media"][0]
    assert media["sha256"] is None, "listing never draws a photo"
    detail = admin.product(shop, product["id"])["media"][0]
    served = requests.get(detail["url"], timeout=10)
    assert hashlib.sha256(served.content).hexdigest() == detail["sha256"]
    assert served.headers["Content-Type"] == detail["mime"]
