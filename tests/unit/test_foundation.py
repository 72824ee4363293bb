"""Settings, encryption at rest, content-addressed blobs (local and S3 via moto), model checks."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from connector.blobs import BlobMissing, LocalBlobStore, S3BlobStore, open_blob_store, sha256
from connector.crypto import decrypt_json, encrypt_json, new_key
from connector.errors import ConfigurationError, ConnectorError, RateLimited, TransientError
from connector.model_fetch import MD5, md5_of
from connector.settings import Settings

pytestmark = pytest.mark.unit


def test_settings_defaults_are_embedded(tmp_path: Path) -> None:
    s = Settings.from_env({"CONNECTOR_VAR_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'connector.db'}"
    assert s.redis_url is None and s.blob_url.startswith("file://")
    assert s.onnx_providers == ("CPUExecutionProvider",) and s.model == "u2netp"


def test_settings_production_values_and_bad_mode(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://x/y",
            "REDIS_URL": "redis://r:6379/0",
            "ONNX_PROVIDERS": "CUDAExecutionProvider, CPUExecutionProvider",
        }
    )
    assert s.redis_url == "redis://r:6379/0"
    assert s.onnx_providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    with pytest.raises(ConfigurationError, match="DEFAULT_MODE"):
        Settings.from_env({"DEFAULT_MODE": "yolo"})
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Settings.from_env({}).require_secrets()


def test_env_example_documents_every_setting() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / ".env.example").read_text()
    configs = [root / "connector" / "settings.py", *sorted((root / "adapters").rglob("*.py"))]
    source = "".join(path.read_text() for path in configs)
    assert "SHOPIFY_API_KEY" in source  # the adapters' own variables are read too
    import re

    for var in set(re.findall(r'\b(?:e|env)\.get\("([A-Z0-9_]+)"', source)):
        assert re.search(rf"(?m)^{var}=", text), f"{var} missing from .env.example"


def test_encryption_roundtrip_and_rotation() -> None:
    old, new = new_key(), new_key()
    token = encrypt_json(old, {"access_token": "shpat_x"})
    assert "shpat_x" not in token
    assert decrypt_json(f"{new},{old}", token) == {"access_token": "shpat_x"}
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        decrypt_json(new, token)


def test_local_blobs_are_content_addressed_and_verified(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"original bytes")
    assert digest == sha256(b"original bytes") and store.put(b"original bytes") == digest
    assert store.get(digest) == b"original bytes" and store.exists(digest)
    path = tmp_path / digest[:2] / digest[2:4] / digest
    path.write_bytes(b"tampered")
    with pytest.raises(BlobMissing, match="damaged"):
        store.get(digest)
    with pytest.raises(BlobMissing):
        store.get("0" * 64)


def test_s3_blobs_with_moto() -> None:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="photos")
        store = S3BlobStore("photos", "/prod/", client=client)
        digest = store.put(b"\x89PNG data")
        assert store.get(digest) == b"\x89PNG data" and store.exists(digest)
        assert client.list_objects_v2(Bucket="photos")["Contents"][0]["Key"] == f"prod/{digest}"
        assert not store.exists("f" * 64)
        with pytest.raises(BlobMissing):
            store.get("f" * 64)


def test_blob_url_schemes(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(tmp_path.as_uri()), LocalBlobStore)
    with pytest.raises(ConfigurationError):
        open_blob_store("ftp://nope")


def test_error_hierarchy_says_what_to_do() -> None:
    exc = RateLimited("slow down", retry_after=2.5, hint="wait")
    assert isinstance(exc, TransientError) and isinstance(exc, ConnectorError)
    assert exc.retry_after == 2.5 and str(exc) == "slow down (wait)"


def test_md5_helper(tmp_path: Path) -> None:
    f = tmp_path / "x"
    f.write_bytes(b"abc")
    assert md5_of(f) == "900150983cd24fb0d6963f7d28e17f72" and len(MD5) == 32
