"""Build and run one real WordPress 6.1 + WooCommerce 7.9 store on loopback, with a database of its own.

Debian's ``wordpress`` package and the WooCommerce archive are unpacked once into a cache
(``var/realstore``); each run hard-links them into a folder of its own, writes its own
``wp-config.php``, creates its own database, installs WordPress and WooCommerce from PHP and
serves the folder with PHP's built-in server (4 workers, a router for pretty permalinks).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sandbox.real_woocommerce.prerequisites import Prerequisites, RealStoreUnavailable

PHP_DIR = Path(__file__).with_name("php")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _unpack_wordpress(pre: Prerequisites) -> Path:
    """Debian's WordPress tree (``usr/share/wordpress``), unpacked once per package version."""
    digest = hashlib.sha256(b"".join(p.name.encode() for p in pre.debs)).hexdigest()[:12]
    root = pre.cache_dir / f"wordpress-{digest}"
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)
        for deb in pre.debs:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        (root / ".done").touch()
    return root


def _unpack_woocommerce(pre: Prerequisites) -> Path:
    """The plugin folder ``woocommerce/``, unpacked once per archive."""
    digest = hashlib.sha256(f"{pre.archive.resolve()}:{pre.archive.stat().st_size}".encode()).hexdigest()[:12]
    root = pre.cache_dir / f"woocommerce-{digest}"
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        subprocess.run(["tar", "xzf", str(pre.archive), "-C", str(root)], check=True)
        if not (root / "woocommerce" / "woocommerce.php").is_file():
            raise RealStoreUnavailable(f"{pre.archive} holds no woocommerce/woocommerce.php")
        (root / ".done").touch()
    return root / "woocommerce"


def _config(db: str, pre: Prerequisites, url: str, ca: Path | None) -> str:
    salts = "".join(
        f"define('{name}', '{secrets.token_hex(32)}');\n"
        for name in [
            "AUTH_KEY",
            "SECURE_AUTH_KEY",
            "LOGGED_IN_KEY",
            "NONCE_KEY",
            "AUTH_SALT",
            "SECURE_AUTH_SALT",
            "LOGGED_IN_SALT",
            "NONCE_SALT",
        ]
    )
    return f"""<?php
define('DB_NAME', '{db}');
define('DB_USER', '{pre.db_user}');
define('DB_PASSWORD', '{pre.db_password}');
define('DB_HOST', '{pre.db_host}:{pre.db_port}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}$table_prefix = 'wp_';
define('WP_HOME', '{url}');
define('WP_SITEURL', '{url}');
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('FS_METHOD', 'direct');
define('DISABLE_WP_CRON', true);
define('WP_DEBUG', false);
define('IC_TEST_CA', '{ca or ""}');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""


@dataclass
class RealWooStore:
    """A running real store: its URL, admin login, REST keys and Application Password."""

    url: str
    root: Path
    php: str
    database: str
    admin_password: str
    credentials: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    pre: Prerequisites | None = field(default=None, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    access_log: Path | None = None

    def tool(self, command: str, arg: str = "", stdin: Any = None) -> Any:
        """Run one harness tool inside the store's WordPress (see ``php/tools.php``); its JSON answer."""
        done = subprocess.run(
            [self.php, str(PHP_DIR / "tools.php"), str(self.root), command, arg],
            input=json.dumps(stdin).encode() if stdin is not None else None,
            capture_output=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tools.php {command} failed: {done.stderr.decode()[-2000:]}")
        return json.loads(done.stdout.decode().strip().splitlines()[-1])

    def run_queue(self) -> int:
        """Run the site's scheduler now: webhook deliveries waiting in Action Scheduler go out."""
        return int(self.tool("run-queue")["ran"])

    def sql(self, statement: str) -> None:
        """Run one SQL statement against the server (no database selected)."""
        assert self.pre is not None
        _sql(self.pre, self.php, statement)

    def stop(self) -> None:
        """Stop the server, drop the database, remove the run folder."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
        if self.pre is not None:
            _sql(self.pre, self.php, f"DROP DATABASE IF EXISTS `{self.database}`")
        shutil.rmtree(self.root.parents[2], ignore_errors=True)


def _sql(pre: Prerequisites, php: str, statement: str) -> None:
    code = (
        "$m = new mysqli($argv[1], $argv[2], $argv[3], '', (int) $argv[4]);"
        "if (!$m->query($argv[5])) { fwrite(STDERR, $m->error); exit(1); }"
    )
    done = subprocess.run(
        [php, "-r", code, "--", pre.db_host, pre.db_user, pre.db_password, str(pre.db_port), statement],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RealStoreUnavailable(f"the database server refused {statement!r}: {done.stderr.strip()}")


def _wait_until_up(store: RealWooStore, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.process is not None and store.process.poll() is not None:
            raise RuntimeError(f"php -S exited with {store.process.returncode}")
        try:
            if requests.get(f"{store.url}/wp-json/", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the real store at {store.url} did not answer within {timeout:.0f}s")


def build_store(pre: Prerequisites, ca: Path | None = None) -> RealWooStore:
    """Unpack, configure, install and serve a fresh store; the caller stops it."""
    wordpress, plugin = _unpack_wordpress(pre), _unpack_woocommerce(pre)
    run_id = uuid.uuid4().hex[:10]
    run_dir = pre.cache_dir / "runs" / run_id
    share = run_dir / "usr" / "share"
    share.mkdir(parents=True)
    # the package's relative symlinks point at Debian's php-getid3 and libjs-* files
    (share / "php").symlink_to("/usr/share/php")
    (share / "javascript").symlink_to("/usr/share/javascript")
    root = share / "wordpress"
    subprocess.run(["cp", "-al", str(wordpress / "usr" / "share" / "wordpress"), str(root)], check=True)
    subprocess.run(
        ["cp", "-al", str(plugin), str(root / "wp-content" / "plugins" / "woocommerce")], check=True
    )
    for extra in ("uploads", "mu-plugins"):
        (root / "wp-content" / extra).mkdir(exist_ok=True)
    shutil.copy(PHP_DIR / "test-openings.php", root / "wp-content" / "mu-plugins" / "test-openings.php")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"realstore_{run_id}"
    (root / "wp-config.php").unlink()  # a hard link into the cache: replace, never write through it
    (root / "wp-config.php").write_text(_config(database, pre, url, ca))
    store = RealWooStore(url, root, pre.php, database, secrets.token_urlsafe(12), pre=pre)
    _sql(pre, pre.php, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    try:
        installed = subprocess.run(
            [pre.php, str(PHP_DIR / "install.php"), str(root), store.admin_password],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if installed.returncode != 0:
            raise RuntimeError(
                f"installing WordPress failed: {installed.stderr[-2000:]}{installed.stdout[-500:]}"
            )
        store.versions = json.loads(installed.stdout.strip().splitlines()[-1])
        store.credentials = store.tool("credentials")
        store.access_log = run_dir / "access.log"
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}
        with store.access_log.open("ab") as log:
            store.process = subprocess.Popen(
                [pre.php, "-S", f"127.0.0.1:{port}", "-t", str(root), str(PHP_DIR / "router.php")],
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until_up(store)
    except BaseException:
        store.stop()
        raise
    return store
