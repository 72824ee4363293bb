"""The operator's command line on a real database and Redis (fake platform, no model)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector.cli import main
from connector.models import Image, Store
from connector.publish import publish_version
from connector.services import Services
from connector.stores import save_install
from connector.sync import sync_store
from tests.helpers import approved_result, png

pytestmark = pytest.mark.integration


@pytest.fixture
def store(sqlite_services: Services) -> int:
    app = sqlite_services.platforms["fake"]
    assert isinstance(app, FakeApp)
    app.store("cli.fake").add_product("mug", [png((200, 0, 0))], variants=1)
    store_id = save_install(sqlite_services, "fake", "cli.fake", {"token": "tok-cli.fake"})
    sync_store(sqlite_services, store_id)
    return store_id


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_stores_configure_history_rollback(sqlite_services: Services, store: int) -> None:
    assert "cli.fake" in run("stores")
    out = run("configure", "cli.fake", "--mode", "auto", "--preset", "transparent", "--set", "margin=0.1")
    assert "mode=auto preset=transparent" in out and '"margin": 0.1' in out
    with sqlite_services.session() as s:
        row = s.get(Store, store)
        assert row is not None and row.settings["pipeline"] == {"margin": 0.1}
        image_id = s.scalar(select(Image.id))
        product_platform_id = s.get(Image, image_id).product.platform_id  # type: ignore[union-attr]
    assert image_id is not None
    version_id = approved_result(sqlite_services, image_id, png((255, 255, 255)))
    assert publish_version(sqlite_services, version_id).state == "done"
    history = run("history", "cli.fake", product_platform_id)
    assert "original" in history and "result" in history and "published" in history
    assert "1 images queued" in run("rollback", "cli.fake")
    assert "no unfinished operations" in run("resume")


def test_errors_are_one_clear_line(sqlite_services: Services, store: int) -> None:
    result = CliRunner().invoke(main, ["configure", "cli.fake", "--set", "nonsense=1"])
    assert result.exit_code == 2
    assert "unknown pipeline setting(s): nonsense" in result.output and "what to do:" in result.output
    missing = CliRunner().invoke(main, ["resync", "no-such-store"])
    assert missing.exit_code == 2 and "connector stores" in missing.output


def test_run_summary_is_json(sqlite_services: Services, store: int) -> None:
    run_id = run("resync", "cli.fake", "--dry-run", "--limit", "1").split()[1]
    summary = json.loads(run("run", run_id))
    assert summary["dry_run"] is True and summary["limit"] == 1
