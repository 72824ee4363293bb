"""Worker memory: resident set steady, its growth over many jobs, and the peak on the largest images.

```
.venv/bin/python bench/worker_bench.py [--quick] [--jobs 1000] [--arena]
```

Each figure comes from a fresh subprocess that imports what ``connector worker`` imports (the rq
tasks) and runs what a process job runs on its bytes: ``run_pipeline`` with the worker's model
session (``SessionTuning`` from the settings: memory arena off, one thread per usable CPU; on huge
pages as ``connector worker`` re-runs itself, unless ``WORKER_HUGE_PAGES=false``), then
the worker's after-job memory release.  "steady" is the RSS after the first ten jobs, "growth" the
RSS change from job 100 (or a tenth of the run) to the last job, "peak" the kernel's VmHWM.  The
large inputs are the biggest the loader accepts: a 6300 x 6300 PNG (39.7 MP, under the 40 MP
limit) and a 6000 x 6000 JPEG, both a product photo scaled up.  Bounds (the issue's goals):
steady < 400 MiB, growth < 5 %, peak < 700 MiB.  ``--arena`` turns the memory arena on for a
side-by-side figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import ROOT, peak_rss_mib, print_machine, rss_mib

EXAMPLES = ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"
STEADY_BOUND, GROWTH_BOUND, PEAK_BOUND = 400.0, 0.05, 700.0


def _photos() -> list[bytes]:
    return [p.read_bytes() for p in sorted(EXAMPLES.glob("*.jpg"))]


def _large(kind: str) -> bytes:
    from PIL import Image

    source = Image.open(sorted(EXAMPLES.glob("*.jpg"))[0]).convert("RGB")
    side = 6300 if kind == "png" else 6000
    big = source.resize((side, side), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    big.save(out, format="PNG" if kind == "png" else "JPEG", quality=92, compress_level=1)
    return out.getvalue()


def child(mode: str, count: int, arena: bool) -> None:
    """Run in the subprocess: the jobs, then one JSON line of figures on stdout."""
    import jobs.tasks  # noqa: F401  (what the worker process has imported)
    from connector.settings import get_settings
    from connector.worker_memory import FREEZE_AFTER_JOBS, release_memory, tune_allocator

    tune_allocator()  # as the worker does when it starts
    from jobs.imaging import PipelineSettings, SessionTuning, get_cutter, run_pipeline

    settings = get_settings()
    tuning = SessionTuning(settings.onnx_threads, arena)
    cutter = get_cutter(settings.model, settings.onnx_providers, tuning=tuning)
    pipeline = PipelineSettings()
    # the large photo is made by the parent, so making it does not count in this process's peak
    inputs = [Path(mode).read_bytes()] if Path(mode).is_file() else _photos()
    before = rss_mib()
    marks: dict[int, float] = {}
    for n in range(1, count + 1):
        outcome = run_pipeline(inputs[(n - 1) % len(inputs)], pipeline, cutter)
        del outcome
        release_memory(freeze=n <= FREEZE_AFTER_JOBS)  # as LeanWorker does
        marks[n] = rss_mib()
    print(json.dumps({"before": before, "marks": marks, "peak": peak_rss_mib()}))


def _run_child(mode: str, jobs: int, arena: bool) -> dict:
    from connector.settings import get_settings
    from connector.worker_memory import huge_pages_environment

    args = [sys.executable, __file__, "--child", mode, "--jobs", str(jobs)] + (["--arena"] if arena else [])
    # the environment ``connector worker`` re-runs itself under (huge pages unless WORKER_HUGE_PAGES=false)
    env = huge_pages_environment(dict(os.environ), get_settings().worker_huge_pages) or dict(os.environ)
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["marks"] = {int(k): v for k, v in figures["marks"].items()}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 jobs instead of --jobs")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--arena", action="store_true", help="keep onnxruntime's memory arena")
    parser.add_argument("--large-only", action="store_true", help="only the peaks on the largest photos")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # "photos" or the path of one large photo
    opts = parser.parse_args()
    jobs = 60 if opts.quick else opts.jobs
    if opts.child:
        child(opts.child, jobs if opts.child == "photos" else 2, opts.arena)
        return
    print_machine()
    if not opts.large_only:
        _photo_figures(jobs, opts.arena)
    _large_figures(opts.arena)


def _photo_figures(jobs: int, arena: bool) -> None:
    photos = _run_child("photos", jobs, arena)
    marks = photos["marks"]
    start = 100 if jobs >= 200 else max(10, jobs // 10)
    steady, last = marks[min(10, jobs)], marks[jobs]
    growth = (last - marks[start]) / marks[start]
    print(f"\nworker memory ({'arena on' if arena else 'arena off'}), {jobs} jobs on the example photos")
    print(f"  after imports and session: {photos['before']:.0f} MiB")
    print(f"  steady (after job 10): {steady:.0f} MiB  ÷ {STEADY_BOUND:.0f}: {steady / STEADY_BOUND:.2f}")
    print(
        f"  growth job {start} -> {jobs}: {marks[start]:.0f} -> {last:.0f} MiB = {growth:+.1%}  "
        f"÷ 5 %: {growth / GROWTH_BOUND:.2f}"
    )
    peak = photos["peak"]
    print(f"  peak (VmHWM): {peak:.0f} MiB  ÷ {PEAK_BOUND:.0f}: {peak / PEAK_BOUND:.2f}")


def _large_figures(arena: bool) -> None:
    for mode, label in (("png", "6300 x 6300 PNG"), ("jpeg", "6000 x 6000 JPEG")):
        with tempfile.NamedTemporaryFile(suffix=f".{mode}") as large:
            large.write(_large(mode))
            large.flush()
            big = _run_child(large.name, 2, arena)
        print(
            f"  peak on a {label}: {big['peak']:.0f} MiB  ÷ {PEAK_BOUND:.0f}: "
            f"{big['peak'] / PEAK_BOUND:.2f}  (RSS after: {big['marks'][2]:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
