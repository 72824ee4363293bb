"""Prometheus metrics, correct across the processes of a deployment.

Every process (gunicorn's web workers, each rq worker and its forked work horses, a CLI command)
writes its counters and histograms to its own files in one directory — prometheus_client's
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR`` (default ``var/metrics``) — and ``/metrics``
adds them up.  What is a state rather than a count (queue depth, oldest job's age, live workers
and their memory) is read from Redis when scraped, so it is right whichever process answers and
needs no clean-up when a process dies.  Run one such directory per host; Prometheus scrapes each
host's web app (see docs/monitoring.md).

The rest of the service makes one-line calls: :func:`job_finished`, :func:`image_processed`,
:func:`webhook_received`, ...; platform traffic arrives through :data:`connector.port_events.platform_events`.
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from connector.port_events import platform_events
from connector.settings import Settings, get_settings

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600)
SCORE_BUCKETS = (
    0.0,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    0.95,
    0.98,
    1.0,
    2.0,
    4.0,
)
#: Job kinds whose duration is the time to change the store (replace or roll back an image).
PUBLISH_KINDS = frozenset({"publish", "rollback", "resume"})


def _counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(name, documentation, labels, registry=None)  # read back from files, never registered


def _histogram(
    name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]
) -> Histogram:
    return Histogram(name, documentation, labels, buckets=buckets, registry=None)


class Instruments:
    """The counters and histograms, created in the current metrics directory."""

    def __init__(self) -> None:
        self.jobs = _counter("connector_jobs", "Jobs finished, by kind and outcome.", ("kind", "outcome"))
        self.job_seconds = _histogram(
            "connector_job_seconds", "Seconds one job took, by kind.", ("kind",), SECONDS_BUCKETS
        )
        self.processing = _histogram(
            "connector_processing_seconds", "Pipeline compute seconds per image.", (), SECONDS_BUCKETS
        )
        self.publishing = _histogram(
            "connector_publish_seconds",
            "Seconds to change one image on the store (publish, rollback, resume), by kind and outcome.",
            ("kind", "outcome"),
            SECONDS_BUCKETS,
        )
        self.verdicts = _counter("connector_qa_verdicts", "QA verdicts of processed images.", ("verdict",))
        self.gate_scores = _histogram(
            "connector_qa_gate_score", "Distribution of each QA gate's score.", ("gate",), SCORE_BUCKETS
        )
        self.platform_calls = _counter(
            "connector_platform_calls", "HTTP requests to a platform, by outcome.", ("platform", "outcome")
        )
        self.platform_throttles = _counter(
            "connector_platform_throttles", "Waits imposed by a platform's rate limit.", ("platform",)
        )
        self.platform_throttle_seconds = _counter(
            "connector_platform_throttle_seconds",
            "Seconds waited for a platform's rate limit.",
            ("platform",),
        )
        self.platform_retries = _counter(
            "connector_platform_retries", "Retries of transient platform failures.", ("platform",)
        )
        self.webhooks = _counter(
            "connector_webhooks", "Webhook deliveries, by platform and outcome.", ("platform", "outcome")
        )
        self.rollbacks = _counter("connector_rollbacks", "Rollbacks of one image, by outcome.", ("outcome",))


_lock = threading.Lock()
_directory: Path | None = None
_instruments: Instruments | None = None


def use_directory(path: Path) -> Instruments:
    """Write this process's metrics under ``path`` (idempotent; a new path starts fresh instruments)."""
    global _directory, _instruments
    path = Path(path)
    with _lock:
        if _instruments is not None and _directory == path:
            return _instruments
        path.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
        values.close_all_multiprocess_files()
        values.ValueClass = values.MultiProcessValue()
        _directory, _instruments = path, Instruments()
        return _instruments


def instruments() -> Instruments:
    """The instruments of this process (in the configured directory on first use)."""
    return _instruments or use_directory(get_settings().metrics_dir)


# ----------------------------------------------------------------------------- one-line calls


def job_finished(kind: str, outcome: str, seconds: float) -> None:
    """A job ended with ``outcome`` (done, failed, retrying, crashed) after ``seconds``."""
    m = instruments()
    m.jobs.labels(kind, outcome).inc()
    m.job_seconds.labels(kind).observe(seconds)
    if kind in PUBLISH_KINDS:
        m.publishing.labels(kind, outcome).observe(seconds)
    if kind == "rollback":
        m.rollbacks.labels(outcome).inc()


def image_processed(seconds: float, verdict: str, scores: Mapping[str, float]) -> None:
    """The pipeline judged one image: its compute seconds, verdict and gate scores."""
    m = instruments()
    m.processing.observe(seconds)
    m.verdicts.labels(verdict).inc()
    for gate, score in scores.items():
        m.gate_scores.labels(gate).observe(float(score))
    log.info("processed in %.2f s: verdict %s", seconds, verdict)


def webhook_received(platform: str, status: int, outcome: str) -> None:
    """A webhook delivery was answered: forged (rejected), duplicate, or accepted."""
    kind = "forged" if status in (401, 403) else "duplicate" if "duplicate" in outcome else "accepted"
    instruments().webhooks.labels(platform, kind).inc()
    log.log(logging.WARNING if kind == "forged" else logging.INFO, "webhook %s: %s", platform, outcome)


def call_outcome(status: int | None) -> str:
    """A low-cardinality label for an HTTP answer."""
    if status is None:
        return "network_error"
    if status < 400:
        return "ok"
    if status == 429:
        return "throttled"
    if status in (401, 403):
        return "auth_error"
    return "server_error" if status >= 500 else "refused"


class _PlatformMetrics:
    """Counts what adapters report through :data:`connector.port_events.platform_events`."""

    def on_call(self, platform: str, status: int | None) -> None:
        instruments().platform_calls.labels(platform or "unknown", call_outcome(status)).inc()

    def on_retry(self, platform: str, error: str) -> None:
        instruments().platform_retries.labels(platform or "unknown").inc()
        log.info("%s: retrying after a transient failure (%s)", platform or "platform", error)

    def on_throttle(self, platform: str, seconds: float) -> None:
        m = instruments()
        m.platform_throttles.labels(platform or "unknown").inc()
        m.platform_throttle_seconds.labels(platform or "unknown").inc(max(seconds, 0.0))
        log.info("%s: rate limit, waiting %.2f s", platform or "platform", seconds)


PLATFORM_METRICS = _PlatformMetrics()
platform_events.subscribe(PLATFORM_METRICS)


# ----------------------------------------------------------------------------- state read at scrape time


def memory_key(settings: Settings) -> str:
    """The Redis hash of each worker's peak memory (bytes), by rq worker name."""
    return settings.redis_key("worker-memory")


def peak_memory_bytes() -> int:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def report_worker_memory(settings: Settings, redis: Any, worker_name: str) -> None:
    """Record a worker's peak memory where the scrape finds it."""
    redis.hset(memory_key(settings), worker_name, peak_memory_bytes())


class QueueCollector(Collector):
    """Queue depth, the oldest queued job's age, live workers and their memory, from Redis."""

    def __init__(self, settings: Settings, redis: Any) -> None:
        self.settings, self.redis = settings, redis

    def collect(self) -> Iterator[Metric]:
        from rq import Queue, Worker
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

        up = GaugeMetricFamily("connector_redis_up", "1 when Redis answered the scrape.")
        try:
            depth = GaugeMetricFamily(
                "connector_queue_depth", "Jobs in the queue by state.", labels=["queue", "state"]
            )
            age = GaugeMetricFamily(
                "connector_queue_oldest_job_age_seconds",
                "Seconds the oldest queued job has waited (0: queue empty).",
                labels=["queue"],
            )
            live = GaugeMetricFamily("connector_workers", "Live rq workers on the queue.", labels=["queue"])
            names: set[str] = set()
            for full_name in self._queue_names():
                queue = Queue(full_name, connection=self.redis)
                name = full_name.removeprefix(f"{self.settings.redis_namespace}-")
                depth.add_metric([name, "queued"], queue.count)
                depth.add_metric([name, "started"], StartedJobRegistry(queue=queue).count)
                depth.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
                depth.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
                age.add_metric([name], self._oldest_age(queue))
                workers = Worker.all(queue=queue)
                live.add_metric([name], len(workers))
                names.update(w.name for w in workers)
            memory = self._memory(names)
        except Exception as exc:  # Redis down: say so instead of failing the whole scrape
            log.warning("metrics: Redis did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, depth, age, live, memory)

    def _queue_names(self) -> list[str]:
        """The image queue, then the publish queue (one queue when they are the same)."""
        return list(dict.fromkeys([self.settings.rq_queue, self.settings.rq_publish_queue]))

    def _oldest_age(self, queue: Any) -> float:
        from rq.job import Job

        for job_id in queue.get_job_ids(0, 1):
            job = Job.fetch(job_id, connection=self.redis)
            if job.enqueued_at is not None:
                enqueued = job.enqueued_at.timestamp() if job.enqueued_at.tzinfo else _naive_utc(job)
                return max(0.0, time.time() - enqueued)
        return 0.0

    def _memory(self, live: set[str]) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "connector_worker_memory_bytes", "Peak resident memory of each live worker.", labels=["worker"]
        )
        key = memory_key(self.settings)
        for raw_name, raw_value in self.redis.hgetall(key).items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            if name in live:
                family.add_metric([name], float(raw_value))
            else:
                self.redis.hdel(key, raw_name)  # a worker that is gone
        return family


def _naive_utc(job: Any) -> float:
    from datetime import UTC

    return float(job.enqueued_at.replace(tzinfo=UTC).timestamp())


def render(settings: Settings, redis: Any) -> bytes:
    """The whole deployment's metrics (every process of this host) in Prometheus' text format."""
    use_directory(settings.metrics_dir)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(settings.metrics_dir))
    registry.register(QueueCollector(settings, redis))
    return generate_latest(registry)


def totals(settings: Settings, name: str, label: str) -> dict[str, float]:
    """A counter's value added up over every process of this host, by one label."""
    use_directory(settings.metrics_dir)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(settings.metrics_dir))
    found: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == f"{name}_total":
                key = sample.labels.get(label, "")
                found[key] = found.get(key, 0.0) + sample.value
    return found
