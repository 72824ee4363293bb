"""Content-addressed blob storage (sha256) for originals and results.

A local directory by default, an S3-compatible bucket when ``BLOB_URL=s3://bucket/prefix``.
Writes are verified: :meth:`BlobStore.put` returns only after the bytes read back with the
same hash, so a backup that "succeeded" is a backup that exists.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from connector.errors import ConfigurationError, ConnectorError, TransientError


def sha256(data: bytes) -> str:
    """Hex sha256 of bytes: the blob's address."""
    return hashlib.sha256(data).hexdigest()


class BlobMissing(ConnectorError):
    """A blob that should exist is not there."""

    code = "blob_missing"


class BlobStore(Protocol):
    """Where bytes live, addressed by their sha256."""

    def put(self, data: bytes) -> str:
        """Store bytes (idempotent), verify them, and return their sha256."""
        ...

    def get(self, digest: str) -> bytes:
        """The bytes of a blob, verified against their hash; BlobMissing when absent or damaged."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether the blob is stored."""
        ...

    def delete(self, digest: str) -> None:
        """Remove a blob (no-op when absent); only for data a store asked to erase."""
        ...


def _check(digest: str, data: bytes) -> bytes:
    if sha256(data) != digest:
        raise BlobMissing(
            f"blob {digest[:12]}… is damaged (its bytes hash differently)",
            hint="restore the blob store from its backup; the connector will not use damaged bytes",
        )
    return data


class LocalBlobStore:
    """Blobs as files ``<root>/ab/cd/<sha256>``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        self.get(digest)
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        if not path.is_file():
            raise BlobMissing(
                f"blob {digest[:12]}… is not in {self.root}", hint="check BLOB_URL points at the store"
            )
        return _check(digest, path.read_bytes())

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)


class S3BlobStore:
    """Blobs as objects ``<prefix>/<sha256>`` in an S3-compatible bucket (boto3)."""

    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client: Any = client or boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, digest: str) -> str:
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        if not self.exists(digest):
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(digest),
                    Body=data,
                    ContentType="application/octet-stream",
                )
            except Exception as exc:  # botocore raises many shapes; all of them mean "try again"
                raise TransientError(f"could not write blob to s3://{self.bucket}: {exc}") from exc
        self.get(digest)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception as exc:
            raise BlobMissing(
                f"blob {digest[:12]}… could not be read from s3://{self.bucket}: {exc}",
                hint="check the bucket, S3_ENDPOINT_URL and the credentials",
            ) from exc
        return _check(digest, obj["Body"].read())

    def exists(self, digest: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception:
            return False
        return True

    def delete(self, digest: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception as exc:
            raise TransientError(f"could not delete blob from s3://{self.bucket}: {exc}") from exc


def open_blob_store(url: str, endpoint_url: str | None = None) -> BlobStore:
    """A blob store for ``file:///dir`` or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(parsed.path))
    if parsed.scheme == "s3":
        return S3BlobStore(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    raise ConfigurationError(
        f"BLOB_URL={url!r} is not supported", hint="use file:///path or s3://bucket/prefix"
    )
