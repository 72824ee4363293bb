"""End-to-end connector throughput against raw ``rembg.remove`` on the same photos, in one run.

    U2NET_HOME=var/models .venv/bin/python bench/connector_bench.py [--quick] [--products 20] [--workers 1,2]

For each worker count a fresh Shopify sandbox shop (DevStack, auto mode) holds the seven real example
photos and ``--products`` generated products of the "clean" catalog profile.  The connector is
installed through OAuth (which queues the first full sync) with no worker running; then that many
``connector worker`` subprocesses sync, process and publish everything, including the product
webhooks the store sends back for the connector's own changes.  End to end is from the first job's
start to the last job's end: a worker's start-up (imports, model session) is printed but left out, as
raw rembg's is.  Raw rembg runs ``rembg.remove`` on the bytes the store serves, in as many processes
as there are workers, each with its model session created and warmed up before timing.

``--publishers`` store-write workers (default 2) run next to the image workers.  The shop's cost
bucket restores ``--restore-rate`` points a second (50 by default, the emulator's standard plan; 1 000
is Shopify Plus): the run's points (read from the sandbox) and the least time such a bucket needs to
grant them are printed, so a run bound by the shop shows it.

Per-stage times are rq's start/end stamps of the jobs the jobs table lists (worker-seconds, so with
two workers they add up to more than the wall time).  Peak RSS is the kernel's VmHWM: of each
worker, and of this process, which hosts the web app and both sandboxes.  Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import requests
from benchkit import (
    JobTiming,
    StageFigures,
    bench_env,
    job_ids,
    job_timings,
    machine_summary,
    peak_rss_mib,
    rss_mib,
    stage_figures,
)
from sandbox.devstack import DevStack
from sandbox.seeds.catalog import DEMO_PRODUCTS
from sandbox.seeds.photos import real_photo

STAGES = ("sync", "process", "publish", "sync_product")
STAGE_LABELS = {"sync_product": "webhook re-sync"}


# --------------------------------------------------------------------------------- raw rembg


def _raw_rembg_child(
    images: list[tuple[str, bytes]], ready: Any, go: Event, results: Any, cpu: int | None
) -> None:
    """One raw-rembg process: warm a session up, wait for the start signal, time its share."""
    import os

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # before onnxruntime sizes its thread pool
    import pipeline_bench

    from jobs.imaging import PipelineSettings, RembgCutter, get_cutter

    settings = PipelineSettings.from_preset("clean-white")
    cutter = get_cutter(settings.model, ("CPUExecutionProvider",))
    assert isinstance(cutter, RembgCutter)
    pipeline_bench.run_block(images[:1], "rembg", cutter, settings)  # first inference, lazy imports
    ready.put(True)
    go.wait()
    seconds = pipeline_bench.run_block(images, "rembg", cutter, settings)
    results.put((seconds, peak_rss_mib()))


@dataclass(frozen=True)
class RawFigures:
    images: int
    seconds: float  # the slowest process's time
    peak_rss: float  # MiB, the largest process

    @property
    def rate(self) -> float:
        return self.images / self.seconds


def raw_rembg(images: list[tuple[str, bytes]], processes: int, pin: bool) -> RawFigures:
    """``rembg.remove`` on every image, split over ``processes`` warmed-up processes started together.

    ``pin``: process *i* runs on CPU *i* only, as the pinned workers do.
    """
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [images[i::processes] for i in range(processes)]
    procs = [
        ctx.Process(target=_raw_rembg_child, args=(share, ready, go, results, _cpu(i, pin)))
        for i, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=300)
    go.set()
    answers = [results.get(timeout=1800) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    return RawFigures(len(images), max(s for s, _ in answers), max(r for _, r in answers))


# ------------------------------------------------------------------------------ the store


def seed_shop(stack: DevStack, shop: str, seed: int, products: int) -> int:
    """Install the connector into a 'clean' sandbox shop, then add the real example photos as products.

    No worker runs yet, so the install's full sync will see every product; the products/create
    webhooks of the added products queue per-product syncs, which find nothing new to do.
    """
    store_id = stack.install_shopify(shop, seed=seed, size=products, profile="clean", mode="auto")
    for title, name, _variants in DEMO_PRODUCTS:
        photo = real_photo(name)
        image = {"data": base64.b64encode(photo.data).decode(), "filename": photo.filename}
        answer = requests.post(
            f"{stack.shopify.url}/__sandbox/shops/{shop}/products",
            json={"title": title, "images": [image]},
            timeout=60,
        )
        answer.raise_for_status()
    deadline = time.monotonic() + 60
    while stack.pending_webhooks() and time.monotonic() < deadline:
        time.sleep(0.1)
    return store_id


def served_images(stack: DevStack, shop: str) -> list[tuple[str, bytes]]:
    """The bytes the store serves for every product image (what the connector will fetch)."""
    answer = requests.get(f"{stack.shopify.url}/__sandbox/shops/{shop}/products", timeout=60)
    answer.raise_for_status()
    return [
        (m["url"].rsplit("/", 1)[-1].split("?")[0], requests.get(m["url"], timeout=60).content)
        for product in answer.json()
        for m in product["media"]
    ]


# ------------------------------------------------------------------------------ the workers


@dataclass(frozen=True)
class EndToEnd:
    workers: int
    images: int
    wall: float  # workers started → last job ended
    startup: float  # workers started → first job started
    stages: list[StageFigures]
    statuses: Counter[str]
    worker_peaks: list[float]
    retried: Counter[str]
    publish_steps: dict[str, float]  # mean ms per operation step
    points: float  # the shop's cost-bucket points the run spent (syncs, publishes, re-syncs)
    restore_rate: float  # points a second the shop's bucket restores
    bucket_size: float  # points the shop's bucket holds

    @property
    def points_per_image(self) -> float:
        """Points spent for each image the run published."""
        return self.points / max(1, self.statuses.get("published", 0))

    @property
    def bucket_seconds(self) -> float:
        """The least time the shop's bucket needs to grant the run's points (it starts full)."""
        return max(0.0, self.points - self.bucket_size) / self.restore_rate

    @property
    def rate(self) -> float:
        """Images/s from the first job's start to the last job's end (start-up left out, as raw rembg's)."""
        return self.images / (self.wall - self.startup)

    @property
    def process_rate(self) -> float:
        """Images/s of the process stage alone (fetch, backup, pipeline, record) with every worker busy."""
        stage = next((s for s in self.stages if s.kind == "process"), None)
        return self.workers * stage.jobs / stage.busy if stage and stage.busy else 0.0


def _cpu(index: int, pin: bool) -> int | None:
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[index % len(cpus)] if pin else None


def _pinned(index: int, pin: bool) -> str | None:
    cpu = _cpu(index, pin)
    return None if cpu is None else str(cpu)


def spent_points(stack: DevStack, shop: str) -> tuple[float, float, float]:
    """The points the shop's cost bucket has charged so far, its restore rate and its size."""
    answer = requests.get(f"{stack.shopify.url}/__sandbox/shops/{shop}/throttle", timeout=60)
    answer.raise_for_status()
    status = answer.json()
    return float(status["spentPoints"]), float(status["restoreRate"]), float(status["maximumAvailable"])


def run_workers(
    stack: DevStack,
    shop: str,
    store_id: int,
    workers: int,
    before: set[str],
    log_dir: Path,
    timeout: float,
    publishers: int = 1,
    pin: bool = True,
) -> EndToEnd:
    """Start ``workers`` image workers (each pinned to its own CPU when ``pin``) and ``publishers``
    store-write workers, wait until all work is done, collect the figures.

    ``before``: the job ids that existed before this store was installed (they are not its work).
    """
    points_before, _rate, _size = spent_points(stack, shop)
    started = time.time()
    procs = [
        stack.worker(log=log_dir / f"worker-{workers}w-{i}.log", cpus=_pinned(i, pin)) for i in range(workers)
    ]
    procs += [
        stack.worker(log=log_dir / f"publisher-{workers}w-{i}.log", publisher=True) for i in range(publishers)
    ]
    try:
        wait_settled(stack, timeout)
        peaks = [peak_rss_mib(proc.pid) for proc in procs if proc.poll() is None]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    points_after, restore_rate, bucket_size = spent_points(stack, shop)
    ids = {k: v for k, v in job_ids(stack.services).items() if k not in before}
    timings = job_timings(stack.services, ids)
    statuses, steps = store_outcome(stack, store_id)
    return EndToEnd(
        workers=workers,
        images=sum(statuses.values()),
        wall=max(t.ended for t in timings) - started,
        startup=min(t.started for t in timings) - started,
        stages=stage_figures(timings, STAGES),
        statuses=statuses,
        worker_peaks=peaks,
        retried=retries_by_kind(timings),
        publish_steps=steps,
        points=points_after - points_before,
        restore_rate=restore_rate,
        bucket_size=bucket_size,
    )


def wait_settled(stack: DevStack, timeout: float) -> None:
    """Wait until the stack is idle and no retry is scheduled either (``wait_idle`` does not count those)."""
    from rq.registry import DeferredJobRegistry, ScheduledJobRegistry

    from connector.worker_memory import worker_queue_names

    names = worker_queue_names(stack.services.settings, publisher=False)
    queues = [stack.services.queue(name) for name in names]
    deadline = time.monotonic() + timeout
    while True:
        stack.wait_idle(timeout=max(1.0, deadline - time.monotonic()))
        later = sum(ScheduledJobRegistry(queue=q).count + DeferredJobRegistry(queue=q).count for q in queues)
        if not later:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"retries still scheduled after {timeout:.0f}s")
        time.sleep(0.5)


def retries_by_kind(timings: list[JobTiming]) -> Counter[str]:
    """How often rq ran jobs again after a transient error, by kind (kinds without retries left out)."""
    counts: Counter[str] = Counter()
    for timing in timings:
        counts[timing.kind] += timing.retries
    return +counts


def store_outcome(stack: DevStack, store_id: int) -> tuple[Counter[str], dict[str, float]]:
    """Image statuses of the store, and the mean time of each publish step (ms) from the database."""
    from sqlalchemy import select

    from connector.models import Image, Operation, OperationStep

    with stack.services.session() as s:
        statuses = Counter(s.scalars(select(Image.status).where(Image.store_id == store_id)))
        rows = s.execute(
            select(OperationStep.name, OperationStep.started_at, OperationStep.finished_at)
            .join(Operation, Operation.id == OperationStep.operation_id)
            .where(Operation.store_id == store_id, OperationStep.finished_at.is_not(None))
        )
        spent: dict[str, list[float]] = {}
        for name, begun, finished in rows:
            if finished is not None:
                spent.setdefault(name, []).append((finished - begun).total_seconds())
    return statuses, {name: 1000 * sum(v) / len(v) for name, v in spent.items()}


# ------------------------------------------------------------------------------ reporting


def report(e2e: EndToEnd, raw: RawFigures) -> None:
    ratio = e2e.rate / raw.rate
    print(f"\n--- {e2e.workers} worker(s), {e2e.images} images ---")
    print(f"raw rembg.remove ({e2e.workers} proc): {raw.rate:6.2f} images/s  ({raw.seconds:6.1f} s)")
    print(
        f"connector end to end:    {e2e.rate:6.2f} images/s  ({e2e.wall - e2e.startup:6.1f} s from the "
        f"first job; worker start-up {e2e.startup:.1f} s before it, left out as raw rembg's is)"
    )
    print(f"ratio connector/rembg: {ratio:.2f}  (goal ≥ 0.85)")
    print(
        f"process stage alone:     {e2e.process_rate:6.2f} images/s  (ratio to rembg "
        f"{e2e.process_rate / raw.rate:.2f}; the rest of the wall time is sync and publish)"
    )
    print("stage            jobs  worker-s   mean ms  first start → last end")
    for stage in e2e.stages:
        label = STAGE_LABELS.get(stage.kind, stage.kind)
        print(f"{label:<16} {stage.jobs:4d}  {stage.busy:8.1f}  {stage.mean_ms:8.0f}  {stage.span:6.1f} s")
    wall = e2e.wall - e2e.startup
    print(
        f"shop's cost bucket: {e2e.points:.0f} points, {e2e.points_per_image:.0f} a published image; "
        f"starting full ({e2e.bucket_size:.0f}) and restoring {e2e.restore_rate:.0f}/s it grants them in "
        f"{e2e.bucket_seconds:.1f} s at the least ({e2e.bucket_seconds / wall:.2f} of the end to end's "
        f"{wall:.1f} s; near 1: the shop's bucket is the limit, not the model)"
    )
    steps = ", ".join(f"{k} {v:.0f}" for k, v in e2e.publish_steps.items())
    print(f"publish steps, mean ms: {steps or 'none'}")
    print(f"image statuses: {dict(e2e.statuses)}")
    retried = ", ".join(f"{k} {n}" for k, n in e2e.retried.items())
    print(f"jobs rq ran again after a transient error (e.g. THROTTLED): {retried or 'none'}")
    peaks = " / ".join(f"{p:.0f}" for p in e2e.worker_peaks)
    print(f"peak RSS: worker {peaks} MiB, raw rembg process {raw.peak_rss:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run: 5 generated products, 1 worker")
    parser.add_argument("--products", type=int, default=10, help="generated 'clean' products (5..)")
    parser.add_argument("--workers", help="worker counts to run, comma-separated (default 1,2; quick: 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--redis-url", default="", help="default: embedded Redis in a temp folder")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database, logs)")
    parser.add_argument(
        "--publishers", type=int, default=2, help="store-write workers next to the image workers"
    )
    parser.add_argument(
        "--restore-rate",
        type=float,
        default=50.0,
        help="points/s the sandbox shop's cost bucket restores (50: Shopify's old standard; Plus: 1000)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin image workers to one CPU each")
    args = parser.parse_args()
    products = 5 if args.quick else args.products
    counts = [int(n) for n in (args.workers or ("1" if args.quick else "1,2")).split(",")]

    var_dir = Path(tempfile.mkdtemp(prefix="connector-bench-"))
    before_stack = rss_mib()
    results: list[tuple[EndToEnd, RawFigures]] = []
    try:
        env = bench_env(var_dir, args.database_url, args.redis_url)
        with DevStack(env, restore_rate=args.restore_rate) as stack:
            for workers in counts:
                shop = f"bench-{workers}w.myshopify.com"
                before = set(job_ids(stack.services))
                store_id = seed_shop(stack, shop, args.seed, products)
                pin = not args.no_pin and workers <= len(os.sched_getaffinity(0))
                raw = raw_rembg(served_images(stack, shop), workers, pin)
                e2e = run_workers(
                    stack, shop, store_id, workers, before, var_dir, args.timeout, args.publishers, pin
                )
                print(
                    f"(image workers {'pinned one CPU each' if pin else 'not pinned'}, "
                    f"{args.publishers} publisher(s))"
                )
                report(e2e, raw)
                results.append((e2e, raw))
            web_peak = peak_rss_mib()
    finally:
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    print(
        f"\nweb app + both sandboxes (this process): RSS {before_stack:.0f} MiB before the stack, "
        f"peak {web_peak:.0f} MiB"
    )
    print(f"photos: 7 real examples + {products} generated 'clean' products (seed {args.seed})")
    for line in machine_summary():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
