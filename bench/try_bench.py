"""``connector try`` against raw ``rembg.remove`` on the same 30 photos of 800 px.

```
.venv/bin/python bench/try_bench.py [--quick] [--photos 30] [--side 800]
```

The photos are the seven examples in ``devkit/sandbox/assets/rembg-examples``, scaled to 800 px on
the longest side, and mirrored / rotated copies of them up to ``--photos``.  ``connector try --json``
runs as a user runs it (a subprocess; its own summary gives the seconds per image, model loading
excluded).  Raw rembg runs in its own subprocess: ``rembg.remove(bytes, session=...)`` with the same
u2netp session the connector builds, warmed up on the first photo before timing, once before and
once after the ``try`` run (the mean is the bound, so a neighbour's load slows both alike).
Ratio = raw seconds per image ÷ ``try`` seconds per image (goal ≥ 0.90).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import ROOT, print_machine

EXAMPLES = ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"
GOAL = 0.90


def make_photos(folder: Path, count: int, side: int) -> list[Path]:
    """``count`` JPEG photos of ``side`` px (longest side) from the examples and their flips/turns."""
    from PIL import Image, ImageOps

    sources = [Image.open(p).convert("RGB") for p in sorted(EXAMPLES.glob("*.jpg"))]
    variants = (lambda im: im, ImageOps.mirror, lambda im: im.rotate(90, expand=True), ImageOps.flip)
    paths = []
    for n in range(count):
        image = variants[(n // len(sources)) % len(variants)](sources[n % len(sources)])
        scale = side / max(image.size)
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
        path = folder / f"photo-{n:02d}.jpg"
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def raw_child(folder: Path) -> None:
    """In the subprocess: seconds per image of ``rembg.remove`` with the connector's session."""
    from connector.settings import get_settings
    from jobs.imaging import RembgCutter, SessionTuning, get_cutter

    settings = get_settings()
    cutter = get_cutter(settings.model, settings.onnx_providers, tuning=SessionTuning(settings.onnx_threads))
    assert isinstance(cutter, RembgCutter)
    from rembg import remove

    photos = [p.read_bytes() for p in sorted(folder.glob("*.jpg"))]
    remove(photos[0], session=cutter.session)
    started = time.perf_counter()
    for data in photos:
        remove(data, session=cutter.session)
    print(json.dumps({"seconds_per_image": (time.perf_counter() - started) / len(photos)}))


def _raw(folder: Path) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--raw-child", str(folder)], cwd=ROOT, check=True, stdout=subprocess.PIPE
    ).stdout
    return float(json.loads(out.decode().strip().splitlines()[-1])["seconds_per_image"])


def _try(folder: Path, out_dir: Path) -> dict:
    connector = Path(sys.executable).parent / "connector"
    out = subprocess.run(
        [str(connector), "try", str(folder), "--json", "--out", str(out_dir)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return next(line for line in lines if line.get("summary"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 photos instead of --photos")
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--side", type=int, default=800)
    parser.add_argument("--raw-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_child:
        raw_child(args.raw_child)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="try-bench-"))
    try:
        inputs = folder / "in"
        inputs.mkdir()
        make_photos(inputs, 10 if args.quick else args.photos, args.side)
        before = _raw(inputs)
        summary = _try(inputs, folder / "out")
        after = _raw(inputs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    raw = (before + after) / 2
    tried = float(summary["seconds_per_image"])
    print(f"connector try on {summary['images']} photos of {args.side} px")
    print(
        f"  raw rembg.remove: {1000 * raw:.0f} ms per image "
        f"(before {1000 * before:.0f}, after {1000 * after:.0f})"
    )
    print(
        f"  connector try:    {1000 * tried:.0f} ms per image, "
        f"model loading {summary['model_load_seconds']:.1f} s"
    )
    print(f"  ratio try ÷ raw rembg (throughput): {raw / tried:.2f}  (goal ≥ {GOAL:.2f})")
    print_machine()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
