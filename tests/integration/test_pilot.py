"""``connector try`` end to end with the real model: real photos, hard cases, files, report, JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image
from sandbox.seeds import photos

from connector.cli.try_command import try_command
from connector.pilot import VERDICTS
from connector.settings import PROJECT_ROOT, get_settings

pytestmark = pytest.mark.integration

EXAMPLES = PROJECT_ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples"
IMAGE_KEYS = {"input", "output", "verdict", "reasons", "scores", "seconds"}
#: generated kinds whose cut-out the pilot must get right (transparent result ~ true mask)
EASY = ("studio-grey", "exif-rotated", "16bit-png", "webp", "transparent-png")
HARD = ("dark-on-dark", "reflective", "fine-detail", "lifestyle", "cmyk-jpeg")


@pytest.fixture(autouse=True)
def _model_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(get_settings().u2net_home))


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _run(*args: str) -> Result:
    return CliRunner().invoke(try_command, list(args), catch_exceptions=False)


def _json_lines(result: Result) -> tuple[list[dict], dict]:
    objects = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    *images, summary = objects
    assert summary["summary"] is True
    return images, summary


def _check_contract(images: list[dict], summary: dict, out: Path) -> None:
    assert summary["images"] == len(images)
    assert sum(summary[v] for v in VERDICTS) == len(images)
    assert summary["outputs"] == sum(1 for i in images if i["output"])
    for image in images:
        assert set(image) == IMAGE_KEYS and image["verdict"] in VERDICTS and image["seconds"] >= 0
        source = Path(image["input"])
        if image["output"] is None:
            assert image["verdict"] in {"refused", "fail", "error", "review", "skip"}
            continue
        output = Path(image["output"])
        assert output.parent == out and output.is_file()
        assert output.stem == source.stem or output.stem.startswith(source.stem + "-")
        assert image["verdict"] in {"pass", "review", "skip"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert all(Path(i["input"]).name in report for i in images)
    assert "http://" not in report and "https://" not in report
    assert [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()] == images


def test_try_on_the_example_photos(tmp_path: Path) -> None:
    before = _snapshot(EXAMPLES)
    out = tmp_path / "pilot"
    result = _run(str(EXAMPLES), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    images, summary = _json_lines(result)
    assert _snapshot(EXAMPLES) == before  # inputs are never modified
    names = {Path(i["input"]).name for i in images}
    assert names == {p.name for p in EXAMPLES.iterdir() if p.suffix in {".jpg", ".png"}}
    _check_contract(images, summary, out)
    by_name = {Path(i["input"]).name: i for i in images}
    car = by_name["car-1.jpg"]
    assert car["output"] and car["scores"]["mask_area"] > 0.05
    assert summary["cost_per_image_usd"] > 0 and summary["preset"] == "clean-white"


@pytest.fixture(scope="module")
def hard_cases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, photos.Photo]]]:
    folder = tmp_path_factory.mktemp("hard-cases")
    made = {}
    for kind in (*EASY, *HARD, *sorted(photos.BROKEN_KINDS)):
        size = (480, 360) if kind == "exif-rotated" else (400, 400)
        photo = photos.render(kind, seed=1, size=size)
        (folder / photo.filename).write_bytes(photo.data)
        made[photo.filename] = photo
    yield folder, made


def test_try_transparent_results_match_the_true_masks(
    hard_cases: tuple[Path, dict[str, photos.Photo]], tmp_path: Path
) -> None:
    folder, made = hard_cases
    out = tmp_path / "out"
    result = _run(str(folder), "--preset", "transparent", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    images, summary = _json_lines(result)
    _check_contract(images, summary, out)
    assert summary["preset"] == "transparent" and summary["refused"] == len(photos.BROKEN_KINDS)
    for image in images:
        photo = made[Path(image["input"]).name]
        if photo.kind in photos.BROKEN_KINDS:
            assert image["verdict"] == "refused" and image["output"] is None and image["reasons"]
            continue
        if image["output"] is None:
            assert photo.kind in HARD, image
            continue
        with Image.open(image["output"]) as output:
            assert output.format == "PNG" and output.mode == "RGBA"
            alpha = output.getchannel("A")
        if photo.kind in EASY:
            assert photo.mask is not None
            assert photos.aligned_iou(alpha, photo.mask) > 0.9, image


def test_try_for_people_shows_progress_totals_and_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    broken = tmp_path / "empty.jpg"
    broken.write_bytes(b"")
    result = _run(str(EXAMPLES / "car-3.jpg"), str(broken), "--out", str(out), "--cpu-cost", "0.5")
    assert result.exit_code == 0, result.output
    assert "Processing" in result.stderr  # the progress bar goes to stderr
    assert "refused  empty.jpg" in result.stdout and "car-3.jpg ->" in result.stdout
    assert f"report:  {out / 'report.html'}" in result.stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "$0.500 per CPU-hour" in report and "zero_byte" in report
    assert broken.read_bytes() == b""


def test_default_output_folder_is_under_var_try(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        result = _run(str(EXAMPLES / "car-1.jpg"), "--json")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    _images, summary = _json_lines(result)
    out = Path(summary["out_dir"])
    assert out.parent == tmp_path / "var" / "try" and (out / "car-1.jpg").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "polaroid"], "unknown pipeline preset"),
        (["--model", "no-such-model"], "unknown cut-out model"),
    ],
)
def test_a_run_that_cannot_start_exits_non_zero(args: list[str], message: str, tmp_path: Path) -> None:
    result = _run(str(EXAMPLES / "car-1.jpg"), "--out", str(tmp_path / "out"), *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "out").exists()


def test_no_images_or_missing_paths_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no photos here")
    assert _run(str(tmp_path)).exit_code == 2
    assert _run(str(tmp_path / "missing.jpg")).exit_code == 2
