"""The Shopify sandbox over real HTTP: auth, validation, query cost and throttling, paging, OAuth.

Each test checks a rule by showing the sandbox rejecting what a real store rejects.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import shopify
from sandbox.shopify import AppConfig, RunningSandbox, fast_config, start
from sandbox.shopify.client import AdminGraphQL, GraphQLFailure, SandboxAdmin
from sandbox.shopify.oauth import query_hmac

from tests.integration.shopify_sandbox_support import shop_fixtures

pytestmark = pytest.mark.integration

KEY, SECRET = "test-key", "test-secret"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    app = AppConfig(KEY, SECRET, redirect_urls=("https://connector.example/",))
    with start(fast_config(apps=(app,))) as sandbox:
        yield sandbox


admin, shop, gql = shop_fixtures("t", seed=7, size=6, profile="clean")


PRODUCTS_PAGE = """
query Page($first: Int!, $after: String, $q: String) {
  products(first: $first, after: $after, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id title updatedAt }
  }
}"""


# --------------------------------------------------------------------------------------------- auth


def test_requests_without_a_valid_token_get_401(
    running: RunningSandbox, admin: SandboxAdmin, shop: str
) -> None:
    url = f"{running.url}/{shop}/admin/api/2025-01/graphql.json"
    body = {"query": "{ shop { name } }"}
    assert requests.post(url, json=body, timeout=10).status_code == 401
    resp = requests.post(url, json=body, headers={"X-Shopify-Access-Token": "shpat_forged"}, timeout=10)
    assert (resp.status_code, resp.json()) == (401, INVALID_TOKEN)
    other = f"t-{uuid.uuid4().hex[:10]}"
    admin.create_shop(other, size=5)
    foreign = admin.token(other)["access_token"]
    resp = requests.post(url, json=body, headers={"X-Shopify-Access-Token": foreign}, timeout=10)
    assert resp.status_code == 401, "a token of another shop must not work here"


def test_expired_token_gets_401_and_the_refresh_token_rotates(
    running: RunningSandbox, admin: SandboxAdmin, shop: str
) -> None:
    tokens = admin.token(shop, access_ttl=0.3)
    assert tokens["expires_in"] == 0 and tokens["refresh_token"].startswith("shprt_")
    gql = AdminGraphQL(running.url, shop, tokens["access_token"])
    assert gql("{ shop { name } }")["shop"]["name"]
    time.sleep(0.4)
    assert gql.post("{ shop { name } }").status_code == 401

    token_url = f"{running.url}/{shop}/admin/oauth/access_token"
    grant = {"client_id": KEY, "client_secret": SECRET, "grant_type": "refresh_token"}
    fresh = requests.post(token_url, data={**grant, "refresh_token": tokens["refresh_token"]}, timeout=10)
    assert fresh.status_code == 200
    answer = fresh.json()
    assert answer["expires_in"] == 3600 and answer["refresh_token"] != tokens["refresh_token"]
    assert AdminGraphQL(running.url, shop, answer["access_token"])("{ shop { name } }")
    reused = requests.post(token_url, data={**grant, "refresh_token": tokens["refresh_token"]}, timeout=10)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_scopes_are_enforced(running: RunningSandbox, admin: SandboxAdmin, shop: str) -> None:
    token = admin.token(shop, scopes=["read_products"])["access_token"]
    gql = AdminGraphQL(running.url, shop, token)
    assert gql("{ products(first: 1) { nodes { id } } }")["products"]["nodes"]
    body = gql.post(
        'mutation { fileCreate(files: [{originalSource: "https://x.example/a.jpg"}]) { files { id } } }'
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_files" in body["errors"][0]["message"]
    assert body["data"] == {"fileCreate": None}


# --------------------------------------------------------------------------------------------- validation


def test_invalid_documents_get_shopify_error_shapes(gql: AdminGraphQL) -> None:
    undefined = gql.post("{ shop { nam } }")
    assert undefined.status_code == 200
    err = undefined.json()["errors"][0]
    assert err["message"] == "Field 'nam' doesn't exist on type 'Shop'"
    assert err["extensions"] == {"code": "undefinedField", "typeName": "Shop", "fieldName": "nam"}
    assert err["locations"] == [{"line": 1, "column": 10}]
    assert "data" not in undefined.json()

    parse = gql.post("query { shop { id }").json()["errors"][0]
    assert parse["extensions"]["code"] == "PARSE_ERROR" and parse["message"].startswith("syntax error")

    missing = gql.post("{ product { id } }").json()["errors"][0]
    assert missing["extensions"]["code"] == "missingRequiredArguments"

    selection = gql.post("{ shop }").json()["errors"][0]
    assert selection["extensions"]["code"] == "selectionMismatch"

    variable = gql.post("query($id: ID!) { product(id: $id) { id } }").json()["errors"][0]
    assert variable["extensions"]["code"] == "INVALID_VARIABLE"
    assert variable["message"] == "Variable $id of type ID! was provided invalid value"


def test_connection_rules_and_unsupported_fields_are_clear_errors(gql: AdminGraphQL) -> None:
    no_page = gql.post("{ products { nodes { id } } }").json()
    assert no_page["errors"][0]["message"] == "you must provide one of first or last"
    too_big = gql.post("{ products(first: 251) { nodes { id } } }").json()
    assert "250" in too_big["errors"][0]["message"]
    many_ids = gql.post(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["gid://shopify/Product/1"] * 251}
    )
    assert many_ids.json()["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    unsupported = gql.post("{ shop { billingAddress { city } } }")
    assert unsupported.status_code == 200
    assert unsupported.json()["errors"][0]["extensions"]["code"] == "SANDBOX_UNSUPPORTED"
    bad_id = gql.post('{ product(id: "42") { id } }').json()
    assert bad_id["errors"][0]["message"] == "Invalid global id '42'"


# --------------------------------------------------------------------------------------------- cost


def test_cost_is_requested_up_front_and_actual_after(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    query = "{ products(first: 5) { nodes { id media(first: 3) { nodes { id } } } } }"
    body = gql.post(query).json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 5 * (1 + 2 + 3 * 1)
    products = body["data"]["products"]["nodes"]
    assert cost["actualQueryCost"] == 2 + sum(3 + len(p["media"]["nodes"]) for p in products)
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 1000 and status["restoreRate"] == 50
    assert status["currentlyAvailable"] <= 1000 - cost["actualQueryCost"] + 5

    mutation = gql.post(
        'mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") '
        "{ deletedWebhookSubscriptionId } }"
    ).json()
    assert mutation["extensions"]["cost"]["requestedQueryCost"] == 10


def test_throttled_when_the_bucket_is_empty(gql: AdminGraphQL, admin: SandboxAdmin, shop: str) -> None:
    admin.put(f"/shops/{shop}/throttle", {"currently_available": 5})
    resp = gql.post("{ products(first: 10) { nodes { id } } }")
    assert resp.status_code == 200
    body = resp.json()
    assert body["errors"][0]["message"] == "Throttled"
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["requestedQueryCost"] == 12
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 12
    assert "data" not in body
    cheap = gql.post("{ shop { name } }")
    assert cheap.json()["data"]["shop"]["name"], "a query the bucket can pay for still runs"

    admin.patch("/settings", {"throttle_http_429": True})
    try:
        admin.put(f"/shops/{shop}/throttle", {"currently_available": 0})
        limited = gql.post("{ products(first: 10) { nodes { id } } }")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    finally:
        admin.patch("/settings", {"throttle_http_429": False})
        admin.put(f"/shops/{shop}/throttle", {"currently_available": 1000})


def test_a_single_query_may_not_cost_more_than_1000(gql: AdminGraphQL) -> None:
    body = gql.post("{ products(first: 250) { nodes { id media(first: 10) { nodes { id } } } } }").json()
    err = body["errors"][0]
    assert err["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 2 + 250 * 13, "maxCost": 1000}
    assert err["message"].startswith(
        "Query cost is 3252, which exceeds the single query max cost limit (1000)."
    )
    assert body["extensions"]["cost"]["actualQueryCost"] is None


# --------------------------------------------------------------------------------------------- reading


def test_cursor_pagination_walks_every_product_once(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = gql(PRODUCTS_PAGE, {"first": 4, "after": after})["products"]
        seen += [p["id"] for p in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 6
    assert seen == [p["id"] for p in admin.get(f"/shops/{shop}/products")]


def test_updated_at_query_finds_only_changed_products(
    gql: AdminGraphQL, admin: SandboxAdmin, shop: str
) -> None:
    first = gql(PRODUCTS_PAGE, {"first": 10})["products"]["nodes"]
    newest = max(p["updatedAt"] for p in first)
    time.sleep(1.05)  # updatedAt has whole seconds, like Shopify's
    target = first[2]["id"]
    admin.patch(f"/shops/{shop}/products/{target.rsplit('/', 1)[-1]}", {"title": "Edited by the merchant"})
    changed = gql(PRODUCTS_PAGE, {"first": 10, "q": f"updated_at:>'{newest}'"})["products"]["nodes"]
    assert [p["id"] for p in changed] == [target]
    assert changed[0]["title"] == "Edited by the merchant"

    warned = gql.post(PRODUCTS_PAGE, {"first": 1, "q": "colour:red"}).json()
    assert warned["extensions"]["search"][0]["warnings"][0]["field"] == "colour"


def test_node_and_nodes_resolve_global_ids(gql: AdminGraphQL, admin: SandboxAdmin, shop: str) -> None:
    product = admin.get(f"/shops/{shop}/products")[0]
    media_id = product["media"][0]["id"]
    data = gql(
        """query($ids: [ID!]!, $id: ID!) {
             nodes(ids: $ids) { id __typename }
             node(id: $id) { ... on MediaImage { id status image { url width height } } }
           }""",
        {"ids": [product["id"], media_id, "gid://shopify/Product/1"], "id": media_id},
    )
    assert [n and n["__typename"] for n in data["nodes"]] == ["Product", "MediaImage", None]
    assert data["node"]["status"] == "READY" and data["node"]["image"]["width"] > 0


# --------------------------------------------------------------------------------------------- OAuth


def authorize_query(scope: str, redirect_uri: str, state: str) -> dict[str, str]:
    """The query of the test app's link to the OAuth authorize page."""
    return {"client_id": KEY, "scope": scope, "redirect_uri": redirect_uri, "state": state}


def test_oauth_install_issues_expiring_offline_tokens(
    running: RunningSandbox, admin: SandboxAdmin, shop: str
) -> None:
    base = f"{running.url}/{shop}"
    params = authorize_query(
        "read_products,write_products,read_files,write_files",
        "https://connector.example/auth/callback",
        "nonce-123",
    )
    resp = requests.get(f"{base}/admin/oauth/authorize", params=params, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == params["redirect_uri"]
    callback = dict(parse_qsl(location.query))
    assert {"code", "hmac", "host", "shop", "state", "timestamp"} <= set(callback)
    assert callback["state"] == "nonce-123" and callback["shop"] == shop

    shopify.Session.setup(api_key=KEY, secret=SECRET)
    assert shopify.Session.validate_hmac(callback), "ShopifyAPI must accept the sandbox's callback signature"
    forged = {**callback, "shop": "evil.myshopify.com"}
    assert not shopify.Session.validate_hmac(forged)
    assert query_hmac(callback, "other-secret") != callback["hmac"]

    token_url = f"{base}/admin/oauth/access_token"
    exchange = {"client_id": KEY, "client_secret": SECRET, "code": callback["code"], "expiring": "1"}
    wrong_secret = requests.post(token_url, data={**exchange, "client_secret": "nope"}, timeout=10)
    assert wrong_secret.status_code == 401
    answer = requests.post(token_url, data=exchange, timeout=10).json()
    assert answer["expires_in"] == 3600 and answer["refresh_token_expires_in"] > 3600
    assert set(answer["scope"].split(",")) == set(params["scope"].split(","))
    gql = AdminGraphQL(running.url, shop, answer["access_token"])
    assert gql("{ shop { myshopifyDomain } }")["shop"]["myshopifyDomain"] == shop
    again = requests.post(token_url, data=exchange, timeout=10)
    assert again.status_code == 400, "an authorization code works once"


def test_oauth_authorize_rejects_unknown_apps_scopes_and_redirects(
    running: RunningSandbox, shop: str
) -> None:
    url = f"{running.url}/{shop}/admin/oauth/authorize"
    good = authorize_query("read_products", "https://connector.example/cb", "s")
    for change in (
        {"client_id": "unknown"},
        {"scope": "read_everything"},
        {"redirect_uri": "https://evil.example/cb"},
    ):
        resp = requests.get(url, params={**good, **change}, allow_redirects=False, timeout=10)
        assert resp.status_code == 400, change


def test_graphql_failure_helper_carries_the_body(gql: AdminGraphQL) -> None:
    with pytest.raises(GraphQLFailure) as caught:
        gql("{ shop { nam } }")
    assert caught.value.body["errors"][0]["extensions"]["code"] == "undefinedField"


def test_counts_and_the_variant_connection(gql: AdminGraphQL, admin: SandboxAdmin, shop: str) -> None:
    data = gql(
        "{ all: productsCount(limit: null) { count precision } "
        "few: productsCount(limit: 4) { count precision } }"
    )
    assert data["all"] == {"count": 6, "precision": "EXACT"}
    assert data["few"] == {"count": 4, "precision": "AT_LEAST"}
    variants = gql("{ productVariants(first: 50) { nodes { id product { id } } } }")["productVariants"][
        "nodes"
    ]
    expected = [(v["id"], p["id"]) for p in admin.get(f"/shops/{shop}/products") for v in p["variants"]]
    assert [(v["id"], v["product"]["id"]) for v in variants] == expected
