"""Finishing an install — webhooks and the first sync — for the install link and for ``add-store``.

``add-store`` registers a store whose credentials an operator already has.  Where the platform can
check them (the port's optional :class:`~connector.port.CredentialCheck`), the address is put in
the store's canonical form (the one its webhooks name) and the credentials must work there before
anything is saved; then webhooks are registered and the first sync is queued, as the install link does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.port import credential_check
from connector.services import Services
from connector.stores import credentials_of, find_store, open_client, save_install


def webhook_url(services: Services, platform: str) -> str:
    """Where a platform's stores deliver webhooks."""
    return f"{services.settings.public_url}/webhooks/{platform}"


def start_install_sync(services: Services, store_id: int) -> int:
    """Queue the first full sync of a newly installed store; the run id."""
    from connector.enqueue import enqueue
    from connector.runs import start_run

    run_id = start_run(services, store_id, "install-sync", actor="install")
    job_id = f"sync-store-{store_id}-r{run_id}"
    enqueue(services, "sync_store_job", store_id, run_id, True, job_id=job_id, kind="sync", run_id=run_id)
    return run_id


def add_store_by_hand(
    services: Services, platform: str, domain: str, credentials: Mapping[str, Any], mode: str | None = None
) -> tuple[int, str]:
    """Check, save (merged with the store's), subscribe webhooks, queue the first sync; (id, domain)."""
    check = credential_check(services.platform(platform))
    shop = check.store_address(domain) if check is not None else domain.strip()
    with services.session() as s:
        row = find_store(s, platform, shop)
        kept = credentials_of(services, row) if row is not None and row.credentials_encrypted else {}
    merged = {**kept, **credentials}
    if check is not None:
        check.check_credentials(shop, merged)  # AuthError saying what does not work; nothing saved
    store_id = save_install(services, platform, shop, merged, mode=mode)
    open_client(services, store_id).register_webhooks(webhook_url(services, platform))
    start_install_sync(services, store_id)
    return store_id, shop
