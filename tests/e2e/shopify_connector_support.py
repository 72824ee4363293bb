"""Shared by the Shopify connector e2e tests: installing through the connector's link, the
sandbox's own view of a shop, the connector's mirror of it, and a token-refresh probe process.

``python -m tests.e2e.shopify_connector_support probe STORE_ID [--plain]`` (run with a dev
stack's environment) opens a client on the store the way a worker does, says it is ready,
waits for a line on stdin, makes two Admin API calls and prints one JSON line with the outcome.
With ``--plain`` the client gets a plain credentials saver, without the refresh coordination.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from sandbox.devstack import DevStack
from sqlalchemy import select

from connector.errors import ConnectorError
from connector.models import Image, Job, Product, Store
from connector.services import Services
from connector.settings import PROJECT_ROOT
from tests.e2e.sandbox_support import num as num
from tests.e2e.sandbox_support import sandbox_admin as sandbox_admin

#: The sandbox emulates Shopify's leaky bucket; syncs that are not about throttling lift it.
UNTHROTTLED = 1_000_000.0


def consent_callback(stack: DevStack, browser: requests.Session, shop: str) -> str:
    """Open the connector's install link and approve on the shop; the callback URL it returns to."""
    start = browser.get(
        f"{stack.web.url}/install/shopify", params={"shop": shop}, allow_redirects=False, timeout=30
    )
    assert start.status_code == 302, start.text
    consent = browser.get(start.headers["Location"], allow_redirects=False, timeout=30)
    assert consent.status_code == 302, consent.text
    callback = consent.headers["Location"]
    assert callback.startswith(f"{stack.web.url}/install/shopify/callback?")
    return callback


def with_query(url: str, **changes: str) -> str:
    """``url`` with some query parameters replaced (a forged callback)."""
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **changes}
    return parts._replace(query=urlencode(query)).geturl()


def install_through_link(stack: DevStack, shop: str, mode: str) -> int:
    """Install the connector on an existing sandbox shop like a merchant; the store id."""
    browser = requests.Session()
    finished = browser.get(consent_callback(stack, browser, shop), timeout=60)
    assert finished.status_code == 200, finished.text[:300]
    with stack.services.session() as s:
        store_id = s.scalar(select(Store.id).where(Store.platform == "shopify", Store.domain == shop))
    assert store_id is not None, f"the install of {shop} made no store"
    set_mode(stack.services, store_id, mode)  # before any worker runs the install's first sync
    return store_id


def store_row(services: Services, store_id: int) -> Store:
    """A detached copy of the store row."""
    with services.session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        s.expunge(store)
        return store


def refresh_tokens(stack: DevStack, shop: str) -> list[Any]:
    """Every refresh token the sandbox issued for the shop, oldest first (install + each refresh)."""
    tokens = stack.shopify.sandbox.state.tokens.values()
    return sorted((t for t in tokens if t.shop == shop and t.kind == "refresh"), key=lambda t: t.issued_at)


def set_throttle(stack: DevStack, restore_rate: float) -> None:
    """The sandbox's leaky-bucket restore rate (points per second) for every shop."""
    sandbox_admin(stack, "PATCH", "/settings", json={"restore_rate": restore_rate})


Shape = dict[str, tuple[str, list[tuple[str, int, str, tuple[str, ...]]]]]


def store_truth(stack: DevStack, shop: str) -> Shape:
    """What the shop shows: per product, its title and images (media id, position, alt, variants)."""
    products = sandbox_admin(stack, "GET", f"/shops/{shop}/products", params={"limit": 10_000})
    return {
        p["id"]: (
            p["title"],
            [(m["id"], m["position"], m["alt"] or "", tuple(sorted(m["variant_ids"]))) for m in p["media"]],
        )
        for p in products
    }


def connector_mirror(services: Services, store_id: int) -> Shape:
    """The same shape from the connector's database (live images of live products)."""
    with services.session() as s:
        products = s.scalars(select(Product).where(Product.store_id == store_id, Product.deleted.is_(False)))
        return {
            p.platform_id: (
                p.title,
                [
                    (i.platform_media_id, i.position, i.alt or "", tuple(sorted(i.variant_ids)))
                    for i in sorted(p.images, key=lambda i: i.position)
                    if i.status != "gone"
                ],
            )
            for p in products
        }


def synced_at(services: Services, store_id: int) -> dict[str, Any]:
    """When each product was last mirrored, by platform id."""
    with services.session() as s:
        return {
            p.platform_id: p.synced_at for p in s.scalars(select(Product).where(Product.store_id == store_id))
        }


def run_jobs(services: Services, run_id: int) -> dict[str, list[str]]:
    """The statuses of a run's jobs, by kind."""
    out: dict[str, list[str]] = {}
    with services.session() as s:
        for job in s.scalars(select(Job).where(Job.run_id == run_id)):
            out.setdefault(job.kind, []).append(job.status)
    return out


def job_result(services: Services, job_id: str) -> Any:
    """rq's return value of a finished job."""
    from rq.job import Job as RqJob

    return RqJob.fetch(job_id, connection=services.redis).return_value()


def job_results(services: Services, run_id: int) -> list[Any]:
    """rq's return values of a run's finished jobs."""
    with services.session() as s:
        ids = list(s.scalars(select(Job.id).where(Job.run_id == run_id)))
    return [job_result(services, i) for i in ids]


def image_statuses(services: Services, store_id: int) -> dict[str, int]:
    """How many of a store's images are in each status."""
    counts: dict[str, int] = {}
    with services.session() as s:
        for status in s.scalars(select(Image.status).where(Image.store_id == store_id)):
            counts[status] = counts.get(status, 0) + 1
    return counts


def settle_images(services: Services, store_id: int) -> int:
    """Mark every new image as handled ("skipped"), as if the pipeline had seen it; how many.

    Keeps the model out of tests about syncing hundreds of products: what they check is that
    a sync with nothing new queues nothing, which needs images that are no longer new.
    """
    with services.session() as s:
        images = list(s.scalars(select(Image).where(Image.store_id == store_id, Image.status == "new")))
        for image in images:
            image.status = "skipped"
        return len(images)


def set_mode(services: Services, store_id: int, mode: str) -> None:
    """Switch a store between auto, review and paused."""
    with services.session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        store.mode = mode


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --------------------------------------------------------------------- the refresh probe


def start_probes(
    stack: DevStack, store_id: int, count: int = 2, plain: bool = False
) -> list[subprocess.Popen[str]]:
    """Probe processes that each opened a client on the store (holding the stored tokens)."""
    args = [sys.executable, "-m", "tests.e2e.shopify_connector_support", "probe", str(store_id)]
    env = {**os.environ, **stack.env, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [
        subprocess.Popen(
            args + (["--plain"] if plain else []),
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert json.loads(line or "{}").get("ready"), f"probe did not start: {line!r}"
    except BaseException:
        _kill(procs)
        raise
    return procs


def release_probes(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Let every probe make its calls at once; what each reported."""
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [json.loads(proc.communicate(timeout=60)[0].strip().splitlines()[-1]) for proc in procs]
    finally:
        _kill(procs)


def _kill(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _probe(store_id: int, plain: bool) -> dict[str, Any]:
    from adapters.shopify import ShopifyClient
    from connector.services import get_services
    from connector.stores import StoredCredentials, open_client

    services = get_services()
    if plain:  # what a worker did before refreshes were coordinated
        shared = StoredCredentials(services, store_id)

        def save(credentials: Mapping[str, Any]) -> None:
            shared(credentials)

        domain = store_row(services, store_id).domain
        client = services.platform("shopify").client(domain, shared.load(), on_credentials=save)
    else:
        client = open_client(services, store_id)
    assert isinstance(client, ShopifyClient)
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    try:
        counts = [client.products_count(), client.products_count()]
    except ConnectorError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": exc.message}
    return {"ok": True, "counts": counts, "token": client.credentials["access_token"]}


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "probe":
        sys.exit("usage: python -m tests.e2e.shopify_connector_support probe STORE_ID [--plain]")
    print(json.dumps(_probe(int(sys.argv[2]), "--plain" in sys.argv[3:])), flush=True)
