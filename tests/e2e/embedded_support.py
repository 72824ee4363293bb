"""Shared by the embedded-app tests: a dev stack whose Shopify app is configured by shopify.app.toml."""

from __future__ import annotations

from typing import Any

from sandbox.devstack import SHOPIFY_APP_KEY, SHOPIFY_APP_SECRET, DevStack
from sandbox.shopify import session_tokens
from sandbox.shopify.config import AppConfig
from sandbox.shopify.embedded_admin import admin_host
from sqlalchemy import select

from connector.billing_models import BillingSubscription, BillingUsage
from connector.models import Image, ImageVersion, Job, Operation, Run, Store
from connector.settings import PROJECT_ROOT
from connector.worker_memory import worker_queue_names
from tests.e2e.sandbox_support import sandbox_admin


def deploy_app_config(stack: DevStack) -> dict[str, Any]:
    """Deploy the repository's shopify.app.toml to the sandbox, its URLs pointed at this stack (app dev)."""
    toml = (PROJECT_ROOT / "shopify.app.toml").read_text()
    body = {
        "toml": toml,
        "api_secret": SHOPIFY_APP_SECRET,
        "client_id": SHOPIFY_APP_KEY,
        "dev_url": stack.web.url,
    }
    return sandbox_admin(stack, "POST", "/apps/config", json=body)


def app_in_admin(stack: DevStack, shop: str) -> str:
    """The emulated admin's page of the app for a shop."""
    return f"{stack.shopify.url}/{shop}/admin/apps/{SHOPIFY_APP_KEY}"


def session_token(stack: DevStack, shop: str, secret: str = SHOPIFY_APP_SECRET, **claims: Any) -> str:
    """A session token the admin of ``shop`` would issue (``secret``/``claims`` to forge or expire one)."""
    state = stack.shopify.sandbox.state.shop(shop)
    assert state is not None
    return session_tokens.mint(AppConfig(SHOPIFY_APP_KEY, secret), state, **claims)


def launch_params(stack: DevStack, shop: str, token: str) -> dict[str, str]:
    """The launch parameters of the app's URL in ``shop``'s admin, with ``token`` as id_token."""
    state = stack.shopify.sandbox.state.shop(shop)
    assert state is not None
    return {"embedded": "1", "host": admin_host(state), "shop": state.domain, "id_token": token}


def store_id_of(stack: DevStack, shop: str) -> int | None:
    with stack.services.session() as s:
        return s.scalar(select(Store.id).where(Store.platform == "shopify", Store.domain == shop))


def snapshot(stack: DevStack) -> dict[str, Any]:
    """Everything an embedded request could change: images, versions, operations, jobs, billing."""
    with stack.services.session() as s:
        return {
            "images": sorted((i.id, i.status, i.failure_code) for i in s.scalars(select(Image))),
            "versions": sorted((v.id, v.state) for v in s.scalars(select(ImageVersion))),
            "operations": len(list(s.scalars(select(Operation.id)))),
            "jobs": len(list(s.scalars(select(Job.id)))),
            "runs": len(list(s.scalars(select(Run.id)))),
            "subscriptions": len(list(s.scalars(select(BillingSubscription.id)))),
            "usage": len(list(s.scalars(select(BillingUsage.id)))),
            "stores": sorted((st.id, st.mode, st.preset, st.active) for st in s.scalars(select(Store))),
            "queued": sum(
                stack.services.queue(name).count
                for name in worker_queue_names(stack.services.settings, publisher=False)
            ),
        }


def usage_records(stack: DevStack, shop: str) -> list[dict[str, Any]]:
    """Every usage record the sandbox holds for the shop's subscriptions."""
    subs = sandbox_admin(stack, "GET", f"/shops/{shop}/billing")
    return [r for sub in subs for r in sub["usage_records"]]
