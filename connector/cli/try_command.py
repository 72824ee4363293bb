"""``connector try``: the photo workflow on local files (see :mod:`connector.pilot`) from the command line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click

from connector.errors import ConnectorError
from connector.imaging import cutter_for
from connector.pilot import (
    DEFAULT_CPU_COST,
    VERDICTS,
    ImageResult,
    PilotRun,
    collect_inputs,
    default_out_dir,
    pilot_settings,
    process_file,
    write_report,
)
from jobs.imaging.lean_rembg import usable_cpus


def _echo_json(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


#: At most this many photos are processed side by side (the model releases the GIL, so do most QA steps).
MAX_PHOTOS_IN_FLIGHT = 4


def photos_in_flight(cpus: int, onnx_threads: int) -> tuple[int, int]:
    """Photos processed side by side, and the model's threads for each, on ``cpus`` cores.

    One photo's QA runs on one core while the model could use all of them; so each core (up to
    :data:`MAX_PHOTOS_IN_FLIGHT`) carries a photo of its own, model and QA, and the cores left over
    share the model's work.  ``onnx_threads`` set by the operator (not 0) is kept as it is.
    """
    in_flight = max(1, min(cpus, MAX_PHOTOS_IN_FLIGHT))
    return in_flight, onnx_threads or max(1, cpus // in_flight)


def _progress(files: Sequence[Path], quiet: bool) -> Any:
    if quiet:
        return _NoBar(files)
    return click.progressbar(
        files, label="Processing", file=sys.stderr, item_show_func=lambda p: p.name if p else ""
    )


class _NoBar:
    """A stand-in for click's progress bar when stdout carries JSON."""

    def __init__(self, items: Sequence[Path]) -> None:
        self.items = items

    def __enter__(self) -> Iterator[Path]:
        return iter(self.items)

    def __exit__(self, *exc: object) -> None:
        return None


def _human_line(result: ImageResult) -> str:
    target = result.output or result.rejected
    where = f" -> {target}" if target else ""
    why = f"  ({'; '.join(result.reasons)})" if result.reasons and result.verdict != "pass" else ""
    return f"{result.verdict:8} {result.input.name}{where}  {result.seconds:.2f} s{why}"


@click.command("try")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--preset", default=None, help="Studio preset (default: DEFAULT_PRESET, clean-white).")
@click.option("--model", default=None, help="Cut-out model (default: REMBG_MODEL, u2netp).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for results and report.html (default: var/try/<timestamp>/).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per image, then a summary object."
)
@click.option(
    "--thresholds-from-store",
    "store",
    default=None,
    metavar="DOMAIN",
    help="Judge with this installed store's QA thresholds instead of the preset's.",
)
@click.option(
    "--cpu-cost",
    type=click.FloatRange(min=0),
    default=DEFAULT_CPU_COST,
    show_default=True,
    help="USD per CPU-hour for the cost estimate.",
)
@click.pass_context
def try_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    preset: str | None,
    model: str | None,
    out_dir: Path | None,
    as_json: bool,
    store: str | None,
    cpu_cost: float,
) -> None:
    """Run the photo workflow on local PATHS (files or folders) and write results and a report.

    Nothing is sent anywhere and the inputs are never changed.  Exit code 0 when the run completed,
    even if some images were refused or failed QA.
    """
    from connector.settings import get_settings

    service = get_settings()  # also exports U2NET_HOME for rembg
    target = (out_dir or default_out_dir(service.var_dir)).resolve()
    files = collect_inputs(paths, skip=target)
    if not files:
        raise click.UsageError("no image files found in " + ", ".join(map(str, paths)), ctx=ctx)
    try:
        settings = pilot_settings(preset or service.preset, model or service.model, store)
        started = time.perf_counter()
        in_flight, threads = photos_in_flight(usable_cpus(), service.onnx_threads)
        cutter = cutter_for(
            settings.model,
            service.onnx_providers,
            settings.alpha_matting,
            threads=threads,
            memory_arena=service.onnx_memory_arena,
        )
        load_seconds = time.perf_counter() - started
        target.mkdir(parents=True, exist_ok=True)
    except ConnectorError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"  what to do: {exc.hint}", err=True)
        ctx.exit(2)
    except OSError as exc:
        click.echo(f"error: cannot create the output folder {target}: {exc}", err=True)
        ctx.exit(2)
    run = PilotRun(
        target, settings.preset, settings.model, store or "preset", cpu_cost, model_load_seconds=load_seconds
    )
    taken = set(files)
    wall, cpu = time.perf_counter(), time.process_time()
    with (
        ThreadPoolExecutor(in_flight) as pool,
        (target / "results.jsonl").open("w", encoding="utf-8") as lines,
        _progress(files, as_json) as bar,
    ):
        # photos side by side: one's QA and rendering run while the model cuts another
        results = pool.map(lambda path: process_file(path, settings, cutter, target, taken), files)
        for _path, result in zip(bar, results, strict=True):
            run.results.append(result)
            lines.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
            if as_json:
                _echo_json(result.as_json())
    run.wall_seconds, run.cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    report = write_report(run, settings)
    summary = run.summary()
    if as_json:
        _echo_json(summary)
        return
    for result in run.results:
        click.echo(_human_line(result))
    counts = ", ".join(f"{summary[v]} {v}" for v in VERDICTS if summary[v])
    click.echo(
        f"\n{summary['images']} images: {counts}.  {summary['seconds_per_image']:.2f} s and "
        f"${summary['cost_per_image_usd']:.6f} per image on this machine."
    )
    click.echo(f"results: {target}\nreport:  {report}")
