"""What a real WooCommerce store needs on this machine, and why it cannot start when something is missing.

The WooCommerce plugin archive is read from ``WOOCOMMERCE_ARCHIVE`` (default:
``../shared/woocommerce/woocommerce-7.9.0.tar.gz`` beside the project).  WordPress comes from
Debian's ``wordpress`` package (downloaded with ``apt-get download``, unpacked, never installed),
PHP from Debian's ``php-*`` packages and the database from the MariaDB server on
``WOOCOMMERCE_DB_URL`` (default ``mysql://root@127.0.0.1:3306``).  ``make test`` installs the
Debian packages (``make realstore``) when it runs as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_ARCHIVE = PROJECT_ROOT.parent / "shared" / "woocommerce" / "woocommerce-7.9.0.tar.gz"
WORDPRESS_DEBS = ("wordpress", "wordpress-theme-twentytwentythree")
PHP_EXTENSIONS = ("mysqli", "curl", "gd", "xml", "mbstring", "intl", "zip")
DEBIAN_PACKAGES = (
    "php-cli php-mysql php-curl php-gd php-xml php-mbstring php-intl php-zip "
    "php-getid3 libjs-underscore libjs-cropper"
)


class RealStoreUnavailable(RuntimeError):
    """The real store cannot run here; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class Prerequisites:
    """Everything found: the plugin archive, PHP, the WordPress packages and the database server."""

    archive: Path
    php: str
    debs: tuple[Path, ...]
    db_host: str
    db_port: int
    db_user: str
    db_password: str
    cache_dir: Path


def archive_path() -> Path:
    """The WooCommerce archive to use (``WOOCOMMERCE_ARCHIVE`` or the default beside the project)."""
    return Path(os.environ.get("WOOCOMMERCE_ARCHIVE") or DEFAULT_ARCHIVE)


def _debs(cache: Path) -> tuple[Path, ...]:
    """Debian's WordPress packages, downloaded into ``cache`` once (apt-get download needs no root)."""
    debs = cache / "debs"
    found = [next(iter(sorted(debs.glob(f"{name}_*.deb"))), None) for name in WORDPRESS_DEBS]
    if all(found):
        return tuple(p for p in found if p)
    if not shutil.which("apt-get"):
        raise RealStoreUnavailable(
            "Debian's wordpress package is not downloaded and apt-get is not available"
        )
    debs.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["apt-get", "download", *WORDPRESS_DEBS], cwd=debs, capture_output=True, text=True, check=False
    )
    found = [next(iter(sorted(debs.glob(f"{name}_*.deb"))), None) for name in WORDPRESS_DEBS]
    if not all(found):
        raise RealStoreUnavailable(
            f"could not download Debian's wordpress package: {done.stderr.strip()[-300:]}"
        )
    return tuple(p for p in found if p)


def _php() -> str:
    php = shutil.which("php")
    if not php:
        raise RealStoreUnavailable(
            f"PHP is not installed: run `make realstore` as root (apt-get install {DEBIAN_PACKAGES})"
        )
    loaded = subprocess.run([php, "-m"], capture_output=True, text=True, check=False).stdout.lower().split()
    missing = [ext for ext in PHP_EXTENSIONS if ext not in loaded]
    if missing:
        raise RealStoreUnavailable(
            f"PHP lacks the extensions {', '.join(missing)}: run `make realstore` as root"
        )
    for shared in ("/usr/share/php/getid3", "/usr/share/javascript/underscore"):
        if not Path(shared).exists():
            raise RealStoreUnavailable(
                f"{shared} is missing (Debian's php-getid3/libjs-*): run `make realstore`"
            )
    return php


def _database() -> tuple[str, int, str, str]:
    url = urlsplit(os.environ.get("WOOCOMMERCE_DB_URL") or "mysql://root@127.0.0.1:3306")
    host, port = url.hostname or "127.0.0.1", url.port or 3306
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        raise RealStoreUnavailable(f"no MariaDB/MySQL server at {host}:{port} ({exc})") from None
    return host, port, url.username or "root", url.password or ""


def check(cache_dir: Path | None = None) -> Prerequisites:
    """Everything the real store needs, or RealStoreUnavailable saying exactly what is missing."""
    archive = archive_path()
    if not archive.is_file():
        raise RealStoreUnavailable(
            f"the WooCommerce archive {archive} is missing (set WOOCOMMERCE_ARCHIVE to "
            "woocommerce-7.9.0.tar.gz, or put ../shared beside the project)"
        )
    cache = cache_dir or PROJECT_ROOT / "var" / "realstore"
    php = _php()
    host, port, user, password = _database()
    return Prerequisites(archive, php, _debs(cache), host, port, user, password, cache)
