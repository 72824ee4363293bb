"""The whole service on one machine, against the sandbox stores over loopback.

Used by ``make demo``, the end-to-end tests and the benchmarks: sandbox stores (Shopify and
WooCommerce emulators), the web app (install, webhooks, dashboard) on a free port, the embedded
or a real Redis, and rq workers as real subprocesses.  Stores are installed the way a merchant
installs them — through the connector's install link and the platform's consent screen.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from connector.errors import ConnectorError
from connector.queue import embedded_redis_url
from connector.services import Services, set_services
from connector.settings import Settings
from connector.stores import find_store
from connector.web import create_app
from connector.worker_memory import worker_queue_names
from sandbox.common.serve import Served, serve

SHOPIFY_APP_KEY = "sandbox-app-key"
SHOPIFY_APP_SECRET = "sandbox-app-secret"


@dataclass
class DevStack:
    """Sandbox stores + web app + workers, wired through one environment."""

    env: dict[str, str]
    webhook_delay: float = 0.2
    media_delay: float = 0.2
    #: the Shopify shops' cost bucket: points restored a second (Shopify's standard plan restores 50 to 100,
    #: Plus 1 000); the bucket holds 20 seconds of restore, at least 1 000 points
    restore_rate: float = 50.0
    access_log: bool = False  # log every request to the web app (scrubbed by the service's log handler)
    services: Services = field(init=False)
    web: Served = field(init=False)
    _stoppers: list[Any] = field(default_factory=list, init=False)
    _workers: list[subprocess.Popen[bytes]] = field(default_factory=list, init=False)

    def start(self) -> DevStack:
        """Start sandboxes and the web app; install the services as the process's services."""
        from sandbox.shopify import AppConfig, fast_config
        from sandbox.shopify import start as serve_shopify
        from sandbox.woocommerce import WooSandboxConfig
        from sandbox.woocommerce import serve_sandbox as serve_woo

        # the dev stack's shops publish without a plan unless a test sets a smaller allowance
        self.env.setdefault("BILLING_FREE_IMAGES", "1000000")
        self.woo = serve_woo(WooSandboxConfig(webhook_delay=self.webhook_delay, allow_http_callback=True))
        self._stoppers.append(self.woo)
        self.shopify = serve_shopify(
            fast_config(
                apps=(AppConfig(SHOPIFY_APP_KEY, SHOPIFY_APP_SECRET),),
                media_processing_delay=self.media_delay,
                webhook_delay=self.webhook_delay,
                restore_rate=self.restore_rate,
                bucket_size=max(1000.0, 20 * self.restore_rate),
            )
        )
        self._stoppers.append(self.shopify)
        self.env.update(
            WOO_ALLOW_HTTP_CALLBACK="1",  # the emulated stores post keys to http; a real one would refuse
            SHOPIFY_API_KEY=SHOPIFY_APP_KEY,
            SHOPIFY_API_SECRET=SHOPIFY_APP_SECRET,
            SHOPIFY_BASE_URL_TEMPLATE=f"{self.shopify.url}/{{shop}}",
            # the sandboxes listen on loopback over http: the outbound guard allows exactly them
            OUTBOUND_ALLOW_HOSTS=",".join(
                h
                for h in (
                    self.env.get("OUTBOUND_ALLOW_HOSTS"),
                    urlsplit(self.woo.url).netloc,
                    urlsplit(self.shopify.url).netloc,
                )
                if h
            ),
        )
        settings = Settings.from_env(self.env)
        if not settings.redis_url:
            self.env["REDIS_URL"] = embedded_redis_url(settings)
        self.services = Services(Settings.from_env(self.env))
        self.services.migrate()
        self.web = serve(create_app(self.services), quiet=not self.access_log)
        self._stoppers.append(self.web)
        self.env["PUBLIC_URL"] = self.web.url
        self.shopify.sandbox.register_app(  # the app's configuration: compliance webhooks go to the connector
            AppConfig(SHOPIFY_APP_KEY, SHOPIFY_APP_SECRET, compliance_url=f"{self.web.url}/webhooks/shopify")
        )
        self.services.settings = Settings.from_env(self.env)
        self.previous_services = set_services(self.services)
        return self

    def stop(self) -> None:
        """Stop workers, the web app and the sandboxes."""
        for proc in self._workers:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for stopper in reversed(self._stoppers):
            stopper.stop()
        set_services(getattr(self, "previous_services", None))

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- workers -------------------------------------------------------------------------

    def worker(
        self,
        *,
        burst: bool = False,
        extra_env: Mapping[str, str] | None = None,
        log: Path | None = None,
        publisher: bool = False,
        cpus: str | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``connector worker`` as a real subprocess with this stack's environment.

        ``publisher``: a store-write worker (``--publisher``); ``cpus``: pin it with ``taskset -c``.
        """
        env = {**os.environ, **self.env, **(extra_env or {})}
        args = [sys.executable, "-m", "connector", "worker"] + (["--burst"] if burst else [])
        args += ["--publisher"] if publisher else []
        args = ["taskset", "-c", cpus, *args] if cpus else args
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        self._workers.append(proc)
        return proc

    def run_burst(self, *, extra_env: Mapping[str, str] | None = None, timeout: float = 600) -> int:
        """Run one burst worker until the queue is empty; its exit code (-9 when it was killed)."""
        proc = self.worker(burst=True, extra_env=extra_env)
        return proc.wait(timeout=timeout)

    def wait_idle(self, timeout: float = 600, settle: float = 0.5) -> None:
        """Wait until no job is queued or running (image and publish queues) and no webhook is pending."""
        names = worker_queue_names(self.services.settings, publisher=False)
        queues = [self.services.queue(name) for name in names]
        started = [StartedJobRegistry(queue=queue) for queue in queues]
        scheduled = [ScheduledJobRegistry(queue=queue) for queue in queues]  # retries waiting for backoff

        def pending() -> tuple[int, int]:
            waiting = sum(q.count for q in queues) + sum(r.count for r in scheduled)
            return waiting, sum(r.count for r in started)

        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = any(pending()) or self.pending_webhooks()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                return
            time.sleep(0.1)
        waiting, running = pending()
        raise TimeoutError(f"work still pending after {timeout:.0f}s: {waiting} queued, {running} running")

    def pending_webhooks(self) -> int:
        """Deliveries the sandboxes still have to send."""
        return self.woo.sandbox.outbox.pending() + self.shopify.sandbox.outbox.pending()

    def shopify_served(self, shop: str) -> dict[str, list[str]]:
        """sha256 of what the Shopify sandbox serves for each product's images, in order, by product id."""
        answer = requests.get(f"{self.shopify.url}/__sandbox/shops/{shop}/products", timeout=60)
        answer.raise_for_status()
        return {
            p["id"]: [
                hashlib.sha256(requests.get(m["url"], timeout=60).content).hexdigest() for m in p["media"]
            ]
            for p in answer.json()
        }

    # --- installs ------------------------------------------------------------------------

    def _store_id(self, platform: str, shop: str) -> int:
        with self.services.session() as s:
            store = find_store(s, platform, shop)
            if store is None:
                raise ConnectorError(f"install of {shop} did not create a store", hint="see the web log")
            return store.id

    def install_shopify(
        self, shop: str, *, seed: int = 0, size: int = 5, profile: str = "demo", mode: str = "auto"
    ) -> int:
        """Seed a Shopify sandbox shop and install the connector through OAuth, like a merchant."""
        self.shopify.sandbox.create_shop(shop, seed=seed, size=size, profile=profile)
        browser = requests.Session()
        answer = browser.get(f"{self.web.url}/install/shopify", params={"shop": shop}, timeout=60)
        if answer.status_code != 200:
            raise ConnectorError(
                f"Shopify install of {shop} answered {answer.status_code}: {answer.text[:300]}"
            )
        store_id = self._store_id("shopify", shop)
        self._set_mode(store_id, mode)
        return store_id

    def install_woocommerce(
        self, site: str, *, seed: int = 0, size: int = 5, profile: str = "demo", mode: str = "auto"
    ) -> int:
        """Seed a WooCommerce sandbox site and install like a merchant: approve WooCommerce's key grant,
        then WordPress's Application Password page (media uploads need one); both through the connector."""
        from sandbox.woocommerce import BrowserError, MerchantBrowser

        creds = self.woo.create_site(site, seed=seed, size=size, profile=profile)
        browser = MerchantBrowser()
        try:
            grant = browser.open(f"{self.web.url}/install/woocommerce?{urlencode({'shop': creds.url})}")
            consent = browser.click(grant, "approve")  # keys go to the connector; the browser comes back
            store_id = self._store_id("woocommerce", creds.url)
            self._set_mode(store_id, mode)  # before the first sync, which waits for the second consent
            done = browser.submit(consent, "approve")  # the Application Password goes to the connector
        except BrowserError as exc:
            raise ConnectorError(f"WooCommerce install of {creds.url} went astray: {exc}") from exc
        if done.status_code != 200:
            raise ConnectorError(
                f"WooCommerce install of {creds.url} answered {done.status_code}: {done.text[:300]}"
            )
        return store_id

    def _set_mode(self, store_id: int, mode: str) -> None:
        from connector.models import Store

        with self.services.session() as s:
            store = s.get(Store, store_id)
            assert store is not None
            store.mode = mode
