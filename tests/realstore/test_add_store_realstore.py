"""``connector add-store woocommerce`` against a real store: the address and keys are checked before
anything is saved, the address is kept in the form the store's webhooks name it, webhooks are
registered and the first sync is queued."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sandbox.real_woocommerce import RealWooStore, SeededCatalog
from sqlalchemy import func, select

from connector.cli import main as cli
from connector.models import Job, Store
from connector.services import Services, set_services
from connector.settings import Settings
from tests.conftest import base_env
from tests.realstore.connector_support import webhooks_to
from tests.realstore.stores import ContractStore

pytestmark = [pytest.mark.realstore, pytest.mark.integration]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The connector's services (every platform) on a temp folder, as the CLI's."""
    env = base_env(tmp_path, PUBLIC_URL="https://connector.invalid")
    svc = Services(Settings.from_env(env))
    svc.migrate()
    previous = set_services(svc)
    yield svc
    set_services(previous)


def add_store(url: str, credentials: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["add-store", "woocommerce", url, "--credentials", credentials])
    return result.exit_code, result.output


def test_add_store_refuses_a_wrong_address_and_bad_keys(
    real_store: tuple[RealWooStore, SeededCatalog], services: Services
) -> None:
    store, _ = real_store
    keys = '{"consumer_key": "%s", "consumer_secret": "%s"}'
    good = keys % (store.credentials["consumer_key"], store.credentials["consumer_secret"])
    code, output = add_store(f"{store.url}/shop", good)
    assert code == 2 and "does not answer as a WooCommerce store" in output
    code, output = add_store(store.url, keys % (store.credentials["consumer_key"], "cs_wrong"))
    assert code == 2 and "the REST API key does not work" in output
    with services.session() as s:
        assert s.scalar(select(func.count(Store.id))) == 0  # nothing saved


def test_add_store_normalises_the_address_registers_webhooks_and_queues_a_sync(
    real_store: tuple[RealWooStore, SeededCatalog], services: Services
) -> None:
    store, _ = real_store
    api = ContractStore("real", store.url, dict(store.credentials))
    creds = {k: store.credentials[k] for k in ("consumer_key", "consumer_secret", "app_user", "app_password")}
    code, output = add_store(store.url.replace("http://", "HTTP://") + "/", json.dumps(creds))
    hooks = webhooks_to(api, "https://connector.invalid/webhooks/woocommerce")
    try:
        assert code == 0, output
        with services.session() as s:
            (row,) = s.scalars(select(Store))
            assert row.domain == store.url  # as X-WC-Webhook-Source names it, without the slash
            assert s.scalar(select(func.count(Job.id)).where(Job.kind == "sync")) == 1
        assert len(hooks) == 4 and {h["status"] for h in hooks} == {"active"}
    finally:
        for hook in hooks:
            api.wc("DELETE", f"webhooks/{hook['id']}", force="true")
