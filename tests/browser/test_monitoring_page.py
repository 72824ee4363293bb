"""The monitoring page in a real browser: work per hour, failures, QA, cost, queue and workers, per store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import SimpleWorker
from sandbox.common.serve import Served, serve

from connector import metrics
from connector.services import Services, set_services
from connector.web import create_app
from tests.conftest import make_services
from tests.helpers import drain
from tests.monitoring_support import Monitored, monitored_store

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Services, Served, Monitored]]:
    services = make_services(tmp_path)
    previous = set_services(services)
    watched = monitored_store(services)
    monitored_store(services, "other.fake")
    server = serve(create_app(services))
    yield services, server, watched
    server.stop()
    set_services(previous)


def cells(page, row: str) -> dict[str, str]:
    """The figures of the newest hour's row of the per-hour table."""
    first = page.locator(f"{row} tr[data-hour]").first
    return {k: first.locator(f"td.{k}").inner_text() for k in ("processed", "published", "held", "failed")}


def test_monitoring_overall_and_per_store_with_live_queue_and_workers(site, browser, tmp_path: Path) -> None:
    services, server, watched = site
    page = browser.new_page()
    page.goto(server.url + "/")
    page.click("header >> text=Monitoring")
    assert page.locator("h1").inner_text() == "Monitoring — all stores"
    assert cells(page, "#timeline") == {"processed": "4", "published": "2", "held": "2", "failed": "2"}
    assert "truncated" in page.locator("#failures").inner_text()
    assert "the file is truncated" in page.locator("#failures .reason").first.inner_text()
    assert "edge_halo" in page.locator("#qa").inner_text()
    assert "Cost and return of all stores" in page.locator("#cost").inner_text()
    assert page.locator("#workers").inner_text().startswith("0")

    idle = SimpleWorker([services.queue()], connection=services.redis)  # a live worker with its memory
    idle.register_birth()
    metrics.report_worker_memory(services.settings, services.redis, idle.name)
    try:
        page.goto(f"{server.url}/images/{watched.held}")
        page.locator("[data-action=approve]").click()  # the held image: its publication is queued
        page.goto(server.url + "/monitoring")
        assert "queued 1" in page.locator("#queue-depth").inner_text()
        workers = page.locator("#workers").inner_text()
        assert workers.startswith("1") and "MiB" in workers
        page.screenshot(path=str(tmp_path / "monitoring-queued.png"), full_page=True)
    finally:
        idle.register_death()

    drain(services)
    page.reload()
    assert "queued 0" in page.locator("#queue-depth").inner_text()
    assert cells(page, "#timeline")["published"] == "3"

    page.click(f"nav.stores a[data-store='{watched.store_id}']")
    assert page.locator("h1").inner_text() == f"Monitoring — store {watched.store_id}"
    assert cells(page, "#timeline") == {"processed": "2", "published": "2", "held": "1", "failed": "1"}
    cost = page.locator("#cost").inner_text()
    assert "Cost and return of this store" in cost and "3.00 s per image" in cost
    page.screenshot(path=str(tmp_path / "monitoring-store.png"), full_page=True)

    page.click("nav.stores >> text=JSON")
    figures = json.loads(page.locator("body").inner_text())
    assert figures["store"] == watched.store_id and figures["failures"][0]["code"] == "truncated"

    page.goto(f"{server.url}/runs/{watched.run_id}")
    assert "Cost and return of this run" in page.locator("[data-testid=cost]").inner_text()
