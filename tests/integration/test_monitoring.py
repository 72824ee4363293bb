"""Monitoring on a real database and Redis: probes, /metrics added up over processes, platform traffic,
the monitoring figures per store, cost per run, and the sample Grafana dashboard against what is exported."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from adapters import http_retry
from connector import metrics
from connector.errors import RateLimited
from connector.port_events import platform_events
from connector.services import Services
from connector.web import create_app
from tests.conftest import make_services
from tests.monitoring_support import FAILURE, monitored_store

pytestmark = pytest.mark.integration
DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring"


def scrape(services: Services) -> dict[str, float]:
    """Every sample of /metrics as ``name{labels}`` → value."""
    answer = create_app(services).test_client().get("/metrics")
    assert answer.status_code == 200
    return {
        sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }


def value(figures: dict[str, float], name: str, **labels: str) -> float:
    return figures.get(name + json.dumps(labels, sort_keys=True), 0.0)


def test_liveness_and_readiness_say_what_is_missing(tmp_path: Path) -> None:
    ready = make_services(tmp_path / "ok")
    client = create_app(ready).test_client()
    assert client.get("/healthz").get_json() == {"ok": True}
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["checks"] == {"database": "ok", "redis": "ok", "model": "ok"}

    broken = make_services(tmp_path / "broken", U2NET_HOME=str(tmp_path / "no-models"))
    broken.settings = broken.settings.with_(redis_url="redis://127.0.0.1:1/0")
    answer = create_app(broken).test_client().get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"].startswith("unreachable") and "connector model" in checks["model"]
    assert create_app(broken).test_client().get("/healthz").status_code == 200  # alive, not ready


def test_metrics_are_guarded_like_the_dashboard(tmp_path: Path) -> None:
    services = make_services(tmp_path, DASHBOARD_PASSWORD="watch-me")
    client = create_app(services).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", auth=("prometheus", "watch-me")).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 401
    open_services = make_services(tmp_path / "open")
    remote = create_app(open_services).test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert remote.status_code == 403


def test_metrics_add_up_every_process_of_the_host(sqlite_services: Services) -> None:
    directory = sqlite_services.settings.metrics_dir
    metrics.use_directory(directory)
    metrics.job_finished("process", "done", 1.0)
    other = (
        "from pathlib import Path; from connector import metrics;"
        f"metrics.use_directory(Path({str(directory)!r})); metrics.job_finished('process', 'done', 2.0)"
    )
    subprocess.run([sys.executable, "-c", other], check=True, timeout=120)
    figures = scrape(sqlite_services)
    assert value(figures, "connector_jobs_total", kind="process", outcome="done") == 2
    assert value(figures, "connector_job_seconds_sum", kind="process") == 3.0
    assert value(figures, "connector_queue_depth", queue="images", state="queued") == 0
    assert value(figures, "connector_redis_up") == 1


def _answer(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


def test_platform_calls_retries_and_throttles_are_counted(sqlite_services: Services) -> None:
    metrics.use_directory(sqlite_services.settings.metrics_dir)
    answers = iter([_answer(429), _answer(200)])

    def error_for(response: requests.Response, what: str) -> RateLimited | None:
        return RateLimited(f"{what}: slow down", retry_after=0.25) if response.status_code == 429 else None

    policy = http_retry.RetryPolicy(attempts=3, sleep=lambda _s: None, platform="woocommerce")
    policy.run(
        lambda: http_retry.checked(lambda: next(answers), "listing", error_for, "", platform="woocommerce")
    )
    platform_events.throttle("shopify", 1.5)  # what the Shopify adapter reports when its cost bucket waits
    figures = scrape(sqlite_services)
    assert value(figures, "connector_platform_calls_total", platform="woocommerce", outcome="throttled") == 1
    assert value(figures, "connector_platform_calls_total", platform="woocommerce", outcome="ok") == 1
    assert value(figures, "connector_platform_retries_total", platform="woocommerce") == 1
    assert value(figures, "connector_platform_throttles_total", platform="woocommerce") == 1
    assert value(figures, "connector_platform_throttle_seconds_total", platform="woocommerce") == 0.25
    assert value(figures, "connector_platform_throttle_seconds_total", platform="shopify") == 1.5


def test_monitoring_figures_per_store_and_cost_per_run(services: Services) -> None:
    watched = monitored_store(services)
    other = monitored_store(services, "other.fake")
    client = create_app(services).test_client()
    mine = client.get(f"/monitoring.json?store={watched.store_id}").get_json()
    hour = mine["timeline"][-1]
    assert (hour["processed"], hour["published"], hour["held"], hour["failed"]) == (2, 1, 1, 1)
    assert hour["verdicts"] == {"pass": 1, "review": 1, "fail": 0, "skip": 0}
    assert hour["scores"]["edge_halo"] == pytest.approx(0.3)
    assert mine["failures"] == [{"code": "truncated", "count": 1, "example": FAILURE}]
    assert mine["cost"]["images_processed"] == 2 and mine["cost"]["compute_seconds_per_image"] == 3.0
    assert mine["live"]["redis"] is True and mine["live"]["queue"]["queued"] == 0
    everything = client.get("/monitoring.json").get_json()
    assert everything["timeline"][-1]["processed"] == 4 and everything["failures"][0]["count"] == 2
    assert {s["id"] for s in everything["stores"]} == {watched.store_id, other.store_id}
    assert client.get("/monitoring.json?store=999").status_code == 404

    run = client.get(f"/runs/{watched.run_id}.json").get_json()
    assert run["cost"]["images_processed"] == 2 and run["cost"]["images_published"] == 1
    assert run["cost"]["compute_seconds"] == 6.0
    assert run["cost"]["paid_service_cost"] == pytest.approx(
        2 * services.settings.paid_service_price_per_image
    )
    page = client.get(f"/runs/{watched.run_id}").get_data(as_text=True)
    assert "Cost and return of this run" in page and "6.00 CPU-seconds" in page


def test_the_sample_dashboard_names_only_exported_metrics(sqlite_services: Services) -> None:
    metrics.use_directory(sqlite_services.settings.metrics_dir)
    metrics.job_finished("rollback", "done", 0.5)
    metrics.image_processed(1.0, "pass", {"edge_halo": 0.1})
    metrics.webhook_received("shopify", 401, "rejected")
    platform_events.call("shopify", 200)
    platform_events.retry("shopify", "transient")
    platform_events.throttle("shopify", 0.1)
    text = create_app(sqlite_services).test_client().get("/metrics").get_data(as_text=True)
    exported = {
        f"{family.name}{suffix}"
        for family in text_string_to_metric_families(text)
        for suffix in ("", "_total", "_bucket", "_count", "_sum")
    }
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert exprs and all(panel["targets"] for panel in dashboard["panels"])
    named = {name for expr in exprs for name in re.findall(r"\bconnector_[a-z_]+", expr)}
    assert len(named) >= 15
    assert not named - exported, f"the dashboard names metrics nobody exports: {sorted(named - exported)}"
    scrape_config = yaml.safe_load((DOCS / "prometheus.yml").read_text())
    job = scrape_config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"]
