"""Pieces the service benchmarks share: an environment for a DevStack, process memory, job timings.

Importing this module puts the project root on ``sys.path`` (the benchmarks run as scripts) and
imports nothing heavy: onnxruntime and rembg load only where a benchmark asks for them, so the
process hosting the web app and the sandboxes reports its own memory.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("U2NET_HOME", str(ROOT / "var" / "models"))

import psutil  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

if TYPE_CHECKING:
    from connector.services import Services

MIB = 1024 * 1024


def bench_env(var_dir: Path, database_url: str = "", redis_url: str = "") -> dict[str, str]:
    """A DevStack environment rooted in ``var_dir`` with fresh secrets and production retry settings.

    Empty ``database_url`` / ``redis_url``: SQLite and the embedded Redis under ``var_dir``.
    """
    from connector.crypto import new_key

    env = {
        "CONNECTOR_VAR_DIR": str(var_dir),
        "SECRET_KEY": "bench-secret",
        "ENCRYPTION_KEY": new_key(),
        "U2NET_HOME": os.environ["U2NET_HOME"],
        "DEFAULT_MODE": "auto",
        "REDIS_NAMESPACE": f"bench{os.getpid()}",
        "LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def peak_rss_mib(pid: int | None = None) -> float:
    """A live process's peak resident set (the kernel's VmHWM), in MiB; its current RSS without /proc."""
    pid = os.getpid() if pid is None else pid
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float(psutil.Process(pid).memory_info().rss) / MIB


def rss_mib(pid: int | None = None) -> float:
    """A live process's resident set now, in MiB."""
    return float(psutil.Process(os.getpid() if pid is None else pid).memory_info().rss) / MIB


class CountingAdapter(HTTPAdapter):
    """An HTTP adapter that counts the requests it sends (every requests call goes through one)."""

    sent = 0

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        CountingAdapter.sent += 1
        return super().send(request, *args, **kwargs)


@contextmanager
def counting_http() -> Iterator[type[CountingAdapter]]:
    """Count every HTTP request this process makes through ``requests`` while the block runs."""
    original = requests.sessions.HTTPAdapter
    requests.sessions.HTTPAdapter = CountingAdapter
    CountingAdapter.sent = 0
    try:
        yield CountingAdapter
    finally:
        requests.sessions.HTTPAdapter = original


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class JobTiming:
    """When one queued job ran (rq's own started/ended stamps), by the kind the jobs table gives it."""

    job_id: str
    kind: str
    started: float
    ended: float
    retries: int  # times rq ran it again after a transient error (e.g. Shopify's THROTTLED)

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def job_ids(services: Services) -> dict[str, str]:
    """Every job id in the jobs table, with its kind."""
    from sqlalchemy import select

    from connector.models import Job

    with services.session() as s:
        return {job_id: kind for job_id, kind in s.execute(select(Job.id, Job.kind))}


def job_timings(services: Services, kinds: dict[str, str]) -> list[JobTiming]:
    """rq's start and end stamps of the given jobs (id → kind); jobs that never ran are left out."""
    from rq.job import Job as RqJob

    timings = []
    ids = list(kinds)
    allowed = services.settings.job_retries
    for rq_job in RqJob.fetch_many(ids, connection=services.redis):
        if rq_job is None:
            continue
        started, ended = _epoch(rq_job.started_at), _epoch(rq_job.ended_at)
        if started is None or ended is None:
            continue
        retries = allowed - rq_job.retries_left if rq_job.retries_left is not None else 0
        timings.append(JobTiming(rq_job.id, kinds[rq_job.id], started, ended, retries))
    return timings


@dataclass(frozen=True)
class StageFigures:
    """One kind of job in one run: how many, worker-seconds spent, mean per job, first start → last end."""

    kind: str
    jobs: int
    busy: float
    span: float

    @property
    def mean_ms(self) -> float:
        return 1000 * self.busy / self.jobs if self.jobs else 0.0


def stage_figures(timings: Iterable[JobTiming], order: Iterable[str]) -> list[StageFigures]:
    """Per-kind figures, in ``order`` first, then any other kind seen."""
    by_kind: dict[str, list[JobTiming]] = {}
    for timing in timings:
        by_kind.setdefault(timing.kind, []).append(timing)
    kinds = [k for k in order if k in by_kind] + sorted(set(by_kind) - set(order))
    return [
        StageFigures(
            kind,
            len(by_kind[kind]),
            sum(t.seconds for t in by_kind[kind]),
            max(t.ended for t in by_kind[kind]) - min(t.started for t in by_kind[kind]),
        )
        for kind in kinds
    ]


def machine_summary() -> list[str]:
    """The machine, for the figures: cores, CPU model, memory, load, Python and the ONNX providers."""
    from importlib.metadata import version

    import onnxruntime
    from pipeline_bench import cpu_model  # bench/ is on sys.path when a benchmark runs as a script

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"nproc {os.cpu_count()}, CPU {cpu_model()}, {psutil.virtual_memory().total / 1024**3:.0f} GiB RAM, "
        f"load average {load} (other jobs share the machine)",
        f"Python {platform.python_version()}, onnxruntime {onnxruntime.__version__} "
        f"(providers {', '.join(onnxruntime.get_available_providers())}; the connector uses "
        f"{os.environ.get('ONNX_PROVIDERS', 'CPUExecutionProvider')}), rembg {version('rembg')}",
    ]


def print_machine() -> None:
    """Print the machine summary (every benchmark ends with it)."""
    print("\n".join(machine_summary()))
