"""Webhook intake under gunicorn: signed Shopify deliveries offered at a fixed rate over loopback.

```
.venv/bin/python bench/webhook_bench.py [--quick] [--rate 200] [--seconds 20] [--web-workers 2]
```

A store is installed (auto mode) in a fresh database; ``gunicorn`` serves the connector's app as in
the Procfile (``--workers``, sync workers) on a loopback port, and the clock starts once every
worker is up and idle (each imports the app itself).  The load generator is open-loop: request *n*
is due at ``n / rate`` seconds, and its latency is counted from when it was due, so a server that
falls behind shows it in the percentiles (no coordinated omission).  Each delivery is a
``products/update`` for one of 200 products, with its own webhook id and a valid
``X-Shopify-Hmac-Sha256``; the app verifies, de-duplicates, records and queues a product sync (rq
keeps one live job per product, so after the first 200 deliveries the sync is already queued).
No worker runs.  The generator stops by itself after ``--seconds`` (plus at most ``--timeout`` for
the last answers).  "lost" = deliveries without a 200 answer plus deliveries answered 200 that the
database has no record of.  The bound of the rate is the offered rate; the bound of the latency is
the issue's goal (p99 < 50 ms).

The load generator shares the machine's cores with the server, so it is kept cheap: every
request is signed and serialized before the clock starts, and one asyncio loop sends them on raw
sockets, one connection per delivery as a platform does (about 1 ms of CPU per delivery, against
several for ``requests`` in a thread pool).  The CPU both sides used per delivery is printed: on a
busy machine a server that needs more CPU than the other jobs leave it cannot keep up.
``--database-url postgresql://…`` and ``--redis-url redis://…`` run it on the production setup
(a fresh database; the run's keys are deleted from that Redis afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
import requests
from benchkit import ROOT, bench_env, print_machine

SHOP = "intake-bench.myshopify.com"
SECRET = "intake-bench-app-secret"
PRODUCTS = 200
P99_BOUND_MS = 50.0
WEBHOOK_PATH = "/webhooks/shopify"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(env: dict[str, str]) -> None:
    """Migrate the database and install the store (auto mode) the deliveries are for."""
    from connector.services import Services
    from connector.settings import Settings
    from connector.stores import save_install

    services = Services(Settings.from_env(env))
    services.migrate()
    save_install(services, "shopify", SHOP, {"access_token": "shpat_bench"}, mode="auto")


def recorded(env: dict[str, str]) -> int:
    """Deliveries the database recorded."""
    from sqlalchemy import func, select

    from connector.models import WebhookEventRecord
    from connector.services import Services
    from connector.settings import Settings

    services = Services(Settings.from_env(env))
    with services.session() as s:
        return int(s.scalar(select(func.count()).select_from(WebhookEventRecord)) or 0)


def forget_redis_keys(env: dict[str, str]) -> None:
    """Delete the run's queue and jobs from a shared Redis (``--redis-url``); its namespace is its own."""
    from connector.queue import redis_connection
    from connector.settings import Settings

    settings = Settings.from_env(env)
    redis = redis_connection(settings)
    for pattern in (f"rq:job:{settings.redis_namespace}-*", f"rq:*{settings.redis_namespace}-*"):
        keys = list(redis.scan_iter(match=pattern, count=1000))
        for at in range(0, len(keys), 1000):
            redis.delete(*keys[at : at + 1000])


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn as the Procfile runs it, on loopback; returns once it answers."""
    args = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        str(workers),
        "--timeout",
        "30",
        "--bind",
        f"127.0.0.1:{port}",
        "connector.web:create_app()",
    ]
    out = open(log, "wb")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if _workers_idle(proc.pid, workers):
            return proc
    proc.terminate()
    raise RuntimeError(f"gunicorn's workers were not up and idle within 60 s; see {log}")


def _workers_idle(pid: int, workers: int) -> bool:
    """Whether all workers are up and idle (done importing the app), measured over half a second.

    Each worker loads the app itself (no ``--preload``, as in the Procfile); one answering /healthz
    says nothing of the others, which would otherwise still be importing when the clock starts.
    """
    children = psutil.Process(pid).children()
    if len(children) < workers:
        time.sleep(0.2)
        return False
    before = [sum(child.cpu_times()[:2]) for child in children]
    time.sleep(0.5)
    return all(sum(c.cpu_times()[:2]) - b < 0.02 for c, b in zip(children, before, strict=True))


def _delivery(port: int, n: int) -> bytes:
    """Delivery ``n`` as the bytes of one HTTP request (signed once, before the clock starts)."""
    from adapters.shopify.webhooks import sign

    product = 1 + n % PRODUCTS
    body = json.dumps({"id": product, "title": f"Product {product}", "updated_at": "2026-01-01T00:00:00Z"})
    data = body.encode()
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Content-Type": "application/json",
        "Content-Length": str(len(data)),
        "Connection": "close",
        "X-Shopify-Topic": "products/update",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": f"bench-{n}",
        "X-Shopify-Event-Id": f"bench-{n}",
        "X-Shopify-Hmac-Sha256": sign(data, SECRET),
    }
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST {WEBHOOK_PATH} HTTP/1.1\r\n{head}\r\n".encode() + data


async def _post(port: int, request: bytes, timeout: float) -> bool:
    """Send one request on its own connection (as a platform does); whether it was answered 200."""

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.readline()  # the status line is all the bench reads
        finally:
            writer.close()

    try:
        status_line = await asyncio.wait_for(exchange(), timeout)
    except (OSError, TimeoutError):
        return False
    return status_line.split(b" ", 2)[1:2] == [b"200"]


def offer(port: int, requests_: list[bytes], rate: float, timeout: float) -> tuple[list[float], int, float]:
    """Send the requests open-loop: latencies (ms, from when each was due), failures, wall seconds.

    One asyncio loop and raw sockets: a few hundred microseconds of CPU per delivery, so the load
    generator leaves the machine's cores to the server it measures.
    """

    async def run() -> tuple[list[float], int, float]:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5
        latencies: list[float] = []
        failures = 0

        async def one(n: int) -> None:
            nonlocal failures
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            ok = await _post(port, requests_[n], timeout)
            latencies.append((loop.time() - due) * 1000)
            failures += 0 if ok else 1

        await asyncio.gather(*(one(n) for n in range(len(requests_))))
        return latencies, failures, loop.time() - start

    return asyncio.run(run())


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process and its live children have used."""
    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s of load instead of --seconds")
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries offered per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn --workers")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds one delivery may take")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--redis-url", default="", help="default: embedded Redis in a temp folder")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    var_dir = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    proc = None
    try:
        env = {**bench_env(var_dir, args.database_url, args.redis_url), "SHOPIFY_API_SECRET": SECRET}
        if not args.redis_url:
            from connector.queue import embedded_redis_url
            from connector.settings import Settings

            env["REDIS_URL"] = embedded_redis_url(Settings.from_env(env))
        prepare(env)
        port = _free_port()
        proc = start_gunicorn(env, port, args.web_workers, var_dir / "gunicorn.log")
        deliveries = [_delivery(port, n) for n in range(int(args.rate * seconds))]
        server_cpu, client_cpu = tree_cpu_seconds(proc.pid), time.process_time()
        latencies, failures, wall = offer(port, deliveries, args.rate, args.timeout)
        server_cpu = tree_cpu_seconds(proc.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        kept = recorded(env)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if args.redis_url and proc is not None:  # once no worker can write any more
            forget_redis_keys(env)
    sent = len(latencies)
    achieved = (sent - failures) / wall if wall else 0.0
    lost = failures + max(0, (sent - failures) - kept)
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    print(
        f"webhook intake: gunicorn --workers {args.web_workers}, "
        f"{args.rate:.0f}/s offered for {seconds:.0f} s"
    )
    print(f"  sent {sent}, answered 200: {sent - failures}, recorded: {kept}, lost: {lost}")
    print(f"  achieved {achieved:.0f}/s  ÷ offered {args.rate:.0f}/s: {achieved / args.rate:.2f}")
    print(
        f"  latency from due time: p50 {p50:.0f} ms, p99 {p99:.0f} ms  "
        f"(p99 ÷ {P99_BOUND_MS:.0f} ms: {p99 / P99_BOUND_MS:.2f})"
    )
    print(
        f"  CPU per delivery: gunicorn {server_cpu / max(sent, 1) * 1000:.1f} ms, "
        f"load generator {client_cpu / max(sent, 1) * 1000:.1f} ms"
    )
    print_machine()
    shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
