"""``connector try``: the whole photo workflow on local files, before any store is connected.

Runs exactly the production pipeline (loading, pre-check, cut-out, studio preset, QA gates) on image
files and folders, writes each result under the input's base name, and an offline HTML report with
originals beside results, verdicts, scores, reasons, timing and an estimated cost per image.
Inputs are only ever read.
"""

from __future__ import annotations

import base64
import io
import os
import platform
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image

from connector.errors import BadImageError, ConfigurationError, ConnectorError, NotFound
from connector.imaging import decode, preset_settings, run_workflow

if TYPE_CHECKING:  # the pipeline (rembg, onnxruntime) loads only when the command runs
    from jobs.imaging import Cutter, PipelineSettings

#: Files a folder scan picks up (files named explicitly are always tried, whatever their name).
IMAGE_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".webp",
        ".gif",
        ".tif",
        ".tiff",
        ".bmp",
        ".avif",
        ".heic",
        ".heif",
        ".svg",
    }
)
#: USD per CPU-hour used for the cost estimate: about one on-demand cloud vCPU.
DEFAULT_CPU_COST = 0.05
PREVIEW_SIDE = 480
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}
#: The pipeline's verdicts (skip: the input was already clean; re-framed, or left as it was) plus what the
#: pilot adds: refused (an unusable input) and error (the pipeline broke on this image; the run goes on).
VERDICTS = ("pass", "review", "fail", "skip", "refused", "error")
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class ImageResult:
    """What the pilot did with one input file."""

    input: Path
    output: Path | None
    verdict: str
    reasons: list[str]
    scores: dict[str, float]
    seconds: float
    cpu_seconds: float
    #: where a result that failed QA was kept for inspection (never an output)
    rejected: Path | None = None
    width: int | None = None
    height: int | None = None
    transparent: bool = False
    original_preview: str | None = None  # data URI
    result_preview: str | None = None  # data URI

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` line of this image."""
        return {
            "input": str(self.input),
            "output": str(self.output) if self.output else None,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "scores": self.scores,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class PilotRun:
    """One ``connector try`` run: settings, results and what it cost."""

    out_dir: Path
    preset: str
    model: str
    thresholds_from: str
    cpu_cost_per_hour: float
    started: datetime = field(default_factory=datetime.now)
    model_load_seconds: float = 0.0
    results: list[ImageResult] = field(default_factory=list)
    #: the whole run's wall and CPU seconds (photos overlap, so their own times do not add up)
    wall_seconds: float | None = None
    cpu_seconds: float | None = None

    def summary(self) -> dict[str, Any]:
        """Totals for the summary line and the report."""
        counts = Counter(r.verdict for r in self.results)
        timed = [r for r in self.results if r.verdict not in {"refused", "error"}]
        wall = sum(r.seconds for r in self.results) if self.wall_seconds is None else self.wall_seconds
        if self.wall_seconds is None or self.cpu_seconds is None:
            cpu_each = sum(r.cpu_seconds for r in timed) / len(timed) if timed else 0.0
            wall_each = sum(r.seconds for r in timed) / len(timed) if timed else 0.0
        else:  # refused files take next to nothing: the run's time is the timed files'
            cpu_each = self.cpu_seconds / len(timed) if timed else 0.0
            wall_each = self.wall_seconds / len(timed) if timed else 0.0
        return {
            "summary": True,
            "images": len(self.results),
            **{verdict: counts.get(verdict, 0) for verdict in VERDICTS},
            "outputs": sum(1 for r in self.results if r.output),
            "seconds_total": round(wall, 3),
            "seconds_per_image": round(wall_each, 4),
            "cpu_seconds_per_image": round(cpu_each, 4),
            "cost_per_image_usd": round(cpu_each / 3600 * self.cpu_cost_per_hour, 8),
            "cpu_cost_per_hour_usd": self.cpu_cost_per_hour,
            "model_load_seconds": round(self.model_load_seconds, 3),
            "preset": self.preset,
            "model": self.model,
            "thresholds_from": self.thresholds_from,
            "out_dir": str(self.out_dir),
            "report": str(self.out_dir / "report.html"),
        }


# --------------------------------------------------------------------------------------------- inputs


def collect_inputs(paths: Iterable[Path], skip: Path | None = None) -> list[Path]:
    """Files named, plus image files found in folders (recursively, hidden folders and ``skip`` left out)."""
    found: dict[Path, None] = {}
    skip_resolved = skip.resolve() if skip else None
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                resolved = candidate.resolve()
                relative = candidate.relative_to(path).parts
                if any(part.startswith(".") for part in relative[:-1]):
                    continue
                if skip_resolved and (resolved == skip_resolved or skip_resolved in resolved.parents):
                    continue
                if candidate.is_file() and candidate.suffix.lower() in IMAGE_SUFFIXES:
                    found.setdefault(resolved)
        else:
            found.setdefault(path.resolve())
    return list(found)


def unique_path(directory: Path, stem: str, suffix: str, taken: set[Path]) -> Path:
    """``directory/stem+suffix``, or ``stem-2``, ``stem-3``… when that name is taken (or an input)."""
    candidate, n = directory / f"{stem}{suffix}", 2
    while candidate.resolve() in taken or candidate.exists():
        candidate, n = directory / f"{stem}-{n}{suffix}", n + 1
    taken.add(candidate.resolve())
    return candidate


def default_out_dir(var_dir: Path) -> Path:
    """``var/try/<timestamp>/`` (with a suffix when two runs start in the same second)."""
    base = var_dir / "try" / datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, n = base, 2
    while candidate.exists():
        candidate, n = base.with_name(f"{base.name}-{n}"), n + 1
    return candidate


# --------------------------------------------------------------------------------------------- processing


def _data_uri(image: Image.Image) -> str:
    preview = image.copy()
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    if "A" in preview.getbands() or "transparency" in preview.info:
        preview.convert("RGBA").save(buffer, "PNG", optimize=True)
        mime = "image/png"
    else:
        preview.convert("RGB").save(buffer, "JPEG", quality=82)
        mime = "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def _original_preview(data: bytes, settings: PipelineSettings) -> str | None:

    try:
        return _data_uri(decode(data, settings).image)
    except BadImageError:
        return None


def _result_preview(data: bytes) -> tuple[str, bool]:
    with Image.open(io.BytesIO(data)) as result:
        result.load()
        transparent = "A" in result.getbands() and result.getextrema()[-1][0] < 255  # type: ignore[index]
        return _data_uri(result), transparent


_NAMING = threading.Lock()


def process_file(
    path: Path, settings: PipelineSettings, cutter: Cutter, out_dir: Path, taken: set[Path]
) -> ImageResult:
    """Run the production pipeline on one file and write its result; never raises for a bad image."""

    wall, cpu = time.perf_counter(), time.process_time()
    data = b""
    try:
        data = path.read_bytes()
        outcome = run_workflow(data, settings, cutter)
    except BadImageError as exc:
        return ImageResult(path, None, "refused", [f"{exc.code}: {exc}"], {}, *_elapsed(wall, cpu))
    except (ConnectorError, OSError, ValueError, RuntimeError, MemoryError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return ImageResult(path, None, "error", [reason], {}, *_elapsed(wall, cpu))
    seconds, cpu_seconds = _elapsed(wall, cpu)
    scores = {name: float(value) for name, value in outcome.scores.items()}
    result = ImageResult(path, None, outcome.verdict, list(outcome.reasons), scores, seconds, cpu_seconds)
    result.original_preview = _original_preview(data, settings)
    if outcome.data is None:  # nothing to publish: already clean, no single subject, or no subject at all
        return result
    suffix = EXTENSIONS.get(outcome.mime or "", path.suffix.lower() or ".png")
    with _NAMING:  # photos run side by side: each takes its own name
        if outcome.verdict == "fail":
            result.rejected = unique_path(out_dir / "failed", path.stem, suffix, taken)
            target = result.rejected
        else:
            result.output = target = unique_path(out_dir, path.stem, suffix, taken)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(outcome.data)
    result.width, result.height = outcome.width, outcome.height
    result.result_preview, result.transparent = _result_preview(outcome.data)
    return result


def _elapsed(wall: float, cpu: float) -> tuple[float, float]:
    return time.perf_counter() - wall, time.process_time() - cpu


# --------------------------------------------------------------------------------------------- report


def _gate_rows(settings: PipelineSettings, scores: dict[str, float]) -> list[dict[str, Any]]:
    """One row per score, with the limits of the gates that read it (each in its own direction)."""
    gates: dict[str, list[str]] = {}
    for gate in settings.thresholds.typed():
        gates.setdefault(gate.score, []).append(gate.describe())
    return [
        {"name": name, "value": value, "limits": "; ".join(gates.get(name, []))}
        for name, value in scores.items()
    ]


def write_report(run: PilotRun, settings: PipelineSettings) -> Path:
    """Write ``report.html`` (self-contained: previews are inlined) into the run's folder."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    template = environment.get_template("pilot_report.html")

    def link(path: Path | None) -> str | None:
        return os.path.relpath(path, run.out_dir) if path else None

    html = template.render(
        run=run,
        summary=run.summary(),
        machine=f"{platform.machine()} · {os.cpu_count()} CPUs · {platform.system()} {platform.release()}",
        images=[
            {
                "result": r,
                "name": r.input.name,
                "output_link": link(r.output or r.rejected),
                "rows": _gate_rows(settings, r.scores),
                "cost": r.cpu_seconds / 3600 * run.cpu_cost_per_hour,
            }
            for r in run.results
        ],
    )
    path = run.out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------- settings


def store_thresholds(domain: str) -> Any:
    """The QA thresholds of an installed store (by domain), from the service database."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from connector.models import Store
    from connector.processing import pipeline_settings
    from connector.services import get_services

    services = get_services()
    try:
        with services.session() as session:
            store = session.scalar(select(Store).where(Store.domain == domain))
            if store is None:
                raise NotFound(f"no installed store {domain!r}", hint="list them with `connector stores`")
            return pipeline_settings(store).thresholds
    except SQLAlchemyError as exc:
        raise ConfigurationError(
            f"cannot read stores from {services.settings.database_url}: {exc}",
            hint="run `connector init`, or leave out --thresholds-from-store to use the default thresholds",
        ) from None


def pilot_settings(preset: str, model: str, thresholds_from_store: str | None) -> PipelineSettings:
    """The production settings of ``preset`` with ``model`` (and a store's QA thresholds)."""
    overrides: dict[str, Any] = {"model": model}
    if thresholds_from_store:
        overrides["thresholds"] = store_thresholds(thresholds_from_store)
    return preset_settings(preset, **overrides)
