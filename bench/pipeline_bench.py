"""Throughput of the whole pipeline against raw ``rembg.remove`` on the same images, in one run.

    U2NET_HOME=var/models .venv/bin/python bench/pipeline_bench.py [--rounds 3] [--preset clean-white]

Both sides share one u2netp session (created before timing).  Rounds alternate the two sides so a
noisy neighbour slows both alike.  Peak RSS is the kernel's high-water mark (VmHWM), reset before
each side's block, so each side reports its own peak.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("U2NET_HOME", str(ROOT / "var" / "models"))

from PIL import Image  # noqa: E402
from rembg import remove  # noqa: E402

from jobs.imaging import PipelineSettings, RembgCutter, get_cutter, run_pipeline  # noqa: E402

EXAMPLES = ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"


def _status(field: str) -> int:
    """A /proc/self/status figure in kB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_images(pattern: str) -> list[tuple[str, bytes]]:
    """The benchmark images: every example photo (the reference cut-outs are left out)."""
    paths = sorted(p for p in EXAMPLES.glob(pattern) if ".out." not in p.name and ".u2netp." not in p.name)
    return [(p.name, p.read_bytes()) for p in paths]


def _pixels(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return image.width * image.height


def run_block(
    images: list[tuple[str, bytes]], side: str, cutter: RembgCutter, settings: PipelineSettings
) -> float:
    """Process every image once on one side; the seconds it took."""
    started = time.perf_counter()
    for _name, data in images:
        if side == "rembg":
            remove(data, session=cutter.session)
        else:
            run_pipeline(data, settings, cutter)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preset", default="clean-white")
    parser.add_argument("--glob", default="*.jpg")
    args = parser.parse_args()

    images = load_images(args.glob)
    settings = PipelineSettings.from_preset(args.preset)
    cutter = get_cutter(settings.model, ("CPUExecutionProvider",))
    assert isinstance(cutter, RembgCutter)
    run_block(images[:1], "rembg", cutter, settings)  # warm-up: first inference, lazy imports
    run_block(images[:1], "pipeline", cutter, settings)

    baseline = _status("VmRSS")
    seconds = {"rembg": 0.0, "pipeline": 0.0}
    peak = {"rembg": 0, "pipeline": 0}
    for _round in range(args.rounds):
        for side in ("rembg", "pipeline"):
            _reset_peak()
            seconds[side] += run_block(images, side, cutter, settings)
            peak[side] = max(peak[side], _status("VmHWM"))

    count = len(images) * args.rounds
    rate = {side: count / seconds[side] for side in seconds}
    pixels = sum(_pixels(data) for _name, data in images) / len(images)
    print(f"machine: {os.cpu_count()} cpus, {cpu_model()}, Python {platform.python_version()}")
    print(
        f"images: {len(images)} ({', '.join(n for n, _ in images)}), mean {pixels / 1e6:.2f} MP, "
        f"{args.rounds} rounds, preset {args.preset}, model {settings.model}"
    )
    for side, label in (("rembg", "raw rembg.remove"), ("pipeline", "run_pipeline")):
        print(
            f"{label:>17}: {rate[side]:6.2f} images/s  ({1000 / rate[side]:6.0f} ms/image)  "
            f"peak RSS {peak[side] / 1024:6.0f} MiB"
        )
    print(f"RSS after imports, model session and warm-up: {baseline / 1024:.0f} MiB")
    print(f"ratio pipeline/rembg: {rate['pipeline'] / rate['rembg']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
