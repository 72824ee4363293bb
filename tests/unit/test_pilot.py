"""The pilot's parts without a model: input discovery, naming, per-image results and the report."""

from __future__ import annotations

import html.parser
import json
from pathlib import Path

import pytest
from PIL import Image
from sandbox.seeds import photos

from connector.cli.try_command import photos_in_flight
from connector.pilot import ImageResult, PilotRun, collect_inputs, process_file, unique_path, write_report
from jobs.imaging import PipelineSettings

pytestmark = pytest.mark.unit


class TruthCutter:
    """A fake cutter that answers with the photo's true mask (whatever image it is shown)."""

    def __init__(self, mask: Image.Image) -> None:
        self.truth = mask
        self.calls = 0

    def mask(self, image: Image.Image) -> Image.Image:
        self.calls += 1
        return self.truth.resize(image.size)


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.sources.append(value)


def _write(folder: Path, kind: str, seed: int = 0) -> tuple[Path, photos.Photo]:
    photo = photos.render(kind, seed, (320, 320))
    path = folder / photo.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(photo.data)
    return path, photo


def test_collect_inputs_scans_folders_but_not_hidden_ones_or_the_output(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    a, _ = _write(shots, "on-white")
    b, _ = _write(shots / "sub", "webp")
    _write(shots / ".cache", "on-white", 1)
    _write(shots / "out", "on-white", 2)
    (shots / "notes.txt").write_text("not an image")
    odd = tmp_path / "named-explicitly.bin"
    odd.write_bytes(b"x")
    found = collect_inputs([shots, a, odd], skip=shots / "out")
    assert found == [a.resolve(), b.resolve(), odd.resolve()]


def test_unique_path_never_reuses_a_taken_name_or_an_input(tmp_path: Path) -> None:
    source = tmp_path / "mug.jpg"
    source.write_bytes(b"original")
    taken = {source.resolve()}
    first = unique_path(tmp_path, "mug", ".jpg", taken)
    second = unique_path(tmp_path, "mug", ".jpg", taken)
    assert (first.name, second.name) == ("mug-2.jpg", "mug-3.jpg")
    assert source.read_bytes() == b"original"


def test_process_file_writes_the_result_under_the_input_name(tmp_path: Path) -> None:
    path, photo = _write(tmp_path / "in", "studio-grey", 4)
    assert photo.mask is not None
    cutter = TruthCutter(photo.mask)
    settings = PipelineSettings.from_preset("transparent")
    result = process_file(path, settings, cutter, tmp_path / "out", {path.resolve()})
    assert cutter.calls == 1
    assert result.verdict in {"pass", "review"} and result.output is not None
    assert result.output.parent == tmp_path / "out" and result.output.name == path.stem + ".png"
    with Image.open(result.output) as out:
        assert out.mode == "RGBA"
        assert photos.aligned_iou(out.getchannel("A"), photo.mask) > 0.95
    assert result.transparent and result.original_preview and result.result_preview
    assert result.as_json()["output"] == str(result.output)
    assert set(result.as_json()) == {"input", "output", "verdict", "reasons", "scores", "seconds"}


@pytest.mark.parametrize("kind", sorted(photos.BROKEN_KINDS))
def test_broken_files_are_refused_with_a_reason(kind: str, tmp_path: Path) -> None:
    path, _ = _write(tmp_path, kind)
    cutter = TruthCutter(Image.new("L", (8, 8)))
    result = process_file(path, PipelineSettings.from_preset("clean-white"), cutter, tmp_path / "out", set())
    assert result.verdict == "refused" and result.output is None and result.reasons
    assert cutter.calls == 0
    assert not (tmp_path / "out").exists()


def test_failed_results_are_kept_apart_and_are_not_outputs(tmp_path: Path) -> None:
    path, photo = _write(tmp_path, "studio-grey", 6)
    assert photo.mask is not None
    wrong = TruthCutter(photo.mask.transpose(Image.Transpose.ROTATE_180))  # a cut-out in the wrong place
    result = process_file(path, PipelineSettings.from_preset("clean-white"), wrong, tmp_path / "out", set())
    assert result.verdict == "fail", result.reasons
    assert result.output is None and result.rejected is not None and result.rejected.parent.name == "failed"
    assert result.rejected.exists() and result.as_json()["output"] is None


def test_report_is_self_contained_and_shows_every_image(tmp_path: Path) -> None:
    settings = PipelineSettings.from_preset("transparent")
    run = PilotRun(tmp_path / "out", settings.preset, settings.model, "preset", 0.05)
    taken: set[Path] = set()
    for kind in ("studio-grey", "zero-byte"):
        path, photo = _write(tmp_path / "in", kind, 2)
        cutter = TruthCutter(photo.mask or Image.new("L", (8, 8)))
        run.results.append(process_file(path, settings, cutter, run.out_dir, taken))
    run.out_dir.mkdir(parents=True, exist_ok=True)
    report = write_report(run, settings).read_text(encoding="utf-8")
    tags = _Tags()
    tags.feed(report)
    assert not [s for s in tags.sources if s.startswith(("http:", "https:", "//"))]
    assert sum(s.startswith("data:image/") for s in tags.sources) == 2  # original and result; zero-byte: none
    links = [s for s in tags.sources if not s.startswith("data:")]
    assert links and all((run.out_dir / link).is_file() for link in links)  # relative links to the results
    assert 'class="frame checker"' in report  # the transparent result sits on a checkerboard
    assert report.count('<section class="card"') == 2
    assert "zero_byte" in report and "could not be read" in report
    summary = run.summary()
    assert summary["images"] == 2 and summary["refused"] == 1
    assert summary["cost_per_image_usd"] == pytest.approx(
        summary["cpu_seconds_per_image"] / 3600 * 0.05, rel=0.01, abs=1e-9
    )
    json.dumps(summary)


@pytest.mark.parametrize(
    ("cpus", "threads", "expected"),
    [(1, 0, (1, 1)), (2, 0, (2, 1)), (8, 0, (4, 2)), (16, 0, (4, 4)), (2, 3, (2, 3))],
)
def test_each_core_carries_a_photo_and_the_rest_share_the_model(
    cpus: int, threads: int, expected: tuple[int, int]
) -> None:
    assert photos_in_flight(cpus, threads) == expected


def test_a_run_of_overlapping_photos_is_timed_by_its_own_clock(tmp_path: Path) -> None:
    """Photos side by side: their own seconds add up to more than the run took; the summary uses the run's."""
    run = PilotRun(tmp_path, "clean-white", "u2netp", "preset", 0.05, wall_seconds=3.0, cpu_seconds=5.0)
    run.results = [ImageResult(tmp_path / f"{n}.jpg", None, "pass", [], {}, 2.5, 2.0) for n in range(2)]
    summary = run.summary()
    assert summary["seconds_total"] == 3.0 and summary["seconds_per_image"] == 1.5
    assert summary["cpu_seconds_per_image"] == 2.5
