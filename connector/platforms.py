"""The composition root of platforms: each is found by name through the ``PLATFORMS`` setting.

``PLATFORMS`` lists ``name=module:factory`` pairs (comma-separated); the factory takes a
:class:`~connector.port.PlatformContext` and returns a :class:`~connector.port.PlatformApp`.
Adding a platform is a folder under ``adapters/`` with a ``build_app`` and one more pair in
this setting (docs/adding-a-platform.md); nothing else in the core names a platform.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from connector.errors import ConfigurationError
from connector.port import PlatformApp, PlatformContext, PlatformFactory
from connector.queue import redis_connection
from connector.settings import DEFAULT_PLATFORMS, Settings


@dataclass(frozen=True)
class DeploymentState:
    """The deployment's shared state (its Redis, under its namespace) as the platforms see it."""

    settings: Settings

    @cached_property
    def _connection(self) -> Any:
        return redis_connection(self.settings)

    def redis(self) -> Any:
        """The deployment's Redis (embedded or ``REDIS_URL``), opened on first use."""
        return self._connection

    def key(self, *parts: object) -> str:
        """A key inside the deployment's namespace."""
        return self.settings.redis_key(*parts)


def parse_platforms(spec: str) -> dict[str, str]:
    """``name=module:factory`` pairs from the ``PLATFORMS`` setting, checked for shape."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, target = item.partition("=")
        name, target = name.strip(), target.strip()
        if not name or ":" not in target:
            raise ConfigurationError(
                f"PLATFORMS entry {item!r} is not name=module:factory",
                hint=f"for example {DEFAULT_PLATFORMS}",
            )
        pairs[name] = target
    return pairs


def load_factory(target: str) -> PlatformFactory:
    """The factory named ``module:attribute``, with a clear error when it cannot be imported."""
    module_name, _, attribute = target.partition(":")
    try:
        factory: PlatformFactory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"platform factory {target!r} cannot be loaded: {exc}",
            hint="check PLATFORMS: each entry is name=module:factory of an installed adapter",
        ) from None
    return factory


def build_platforms(settings: Settings) -> dict[str, PlatformApp]:
    """Every platform the settings name, built with the deployment's configuration and shared state."""
    context = PlatformContext(
        env=settings.env,
        http_timeout=settings.http_timeout,
        shared=DeploymentState(settings),
        # every request to a store goes through this guard (https only in production)
        outbound_allow_hosts=settings.outbound_allow_hosts,
        https_only=settings.production,
    )
    platforms: dict[str, PlatformApp] = {}
    for name, target in parse_platforms(settings.platforms).items():
        app = load_factory(target)(context)
        if app.name != name:
            raise ConfigurationError(
                f"PLATFORMS names {target!r} {name!r}, but it builds the platform {app.name!r}",
                hint=f"write {app.name}={target}",
            )
        platforms[name] = app
    return platforms
