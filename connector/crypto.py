"""Encryption at rest for store credentials (Fernet; several keys allow rotation)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from connector.errors import ConfigurationError


def new_key() -> str:
    """A fresh Fernet key for ENCRYPTION_KEY."""
    return Fernet.generate_key().decode()


def _fernet(keys: str) -> MultiFernet:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise ConfigurationError("ENCRYPTION_KEY is empty", hint="run `make env` to generate one")
    try:
        return MultiFernet([Fernet(k.encode()) for k in parts])
    except ValueError as exc:
        raise ConfigurationError(
            "ENCRYPTION_KEY is not a valid Fernet key", hint="generate one with `connector keygen`"
        ) from exc


def encrypt_json(keys: str, value: Mapping[str, Any]) -> str:
    """Encrypt a JSON-able mapping with the newest key."""
    return _fernet(keys).encrypt(json.dumps(dict(value), sort_keys=True).encode()).decode()


def decrypt_json(keys: str, token: str) -> dict[str, Any]:
    """Decrypt what :func:`encrypt_json` wrote, with any of the configured keys."""
    if not token:
        return {}
    try:
        return dict(json.loads(_fernet(keys).decrypt(token.encode())))
    except InvalidToken as exc:
        raise ConfigurationError(
            "stored credentials cannot be decrypted with ENCRYPTION_KEY",
            hint="the key changed: list the old key after the new one (comma-separated), or reinstall",
        ) from exc
