"""run_pipeline end to end with fake cutters (no model): presets checked on the output bytes,
the clean-input paths, lifestyle scenes, refusals and mockups."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from jobs.imaging import PipelineSettings, run_pipeline
from jobs.imaging.errors import BadImageError, ConfigurationError
from tests.unit import imaging_cases as cases

pytestmark = pytest.mark.unit


def _decode(data: bytes | None) -> Image.Image:
    assert data is not None
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _subject_box_on_white(image: Image.Image) -> tuple[int, int, int, int]:
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    ys, xs = np.nonzero((255 - rgb).max(axis=2) > 24)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_clean_white_default_keeps_format_and_frames_the_subject() -> None:
    case = cases.easy()
    outcome = run_pipeline(case.data, PipelineSettings.from_preset(), cases.FixedCutter(case.mask))
    assert outcome.verdict == "pass" and outcome.mime == "image/jpeg"
    image = _decode(outcome.data)
    assert image.format == "JPEG" and image.size == (outcome.width, outcome.height)
    assert image.width == image.height  # square canvas
    assert outcome.mask is not None and outcome.mask.size == case.image().size
    assert outcome.seconds > 0 and all(isinstance(v, float) for v in outcome.scores.values())
    assert image.getpixel((2, 2)) == (255, 255, 255)


def test_marketplace_rules_hold_on_the_output() -> None:
    case = cases.easy()
    big = cases.encode(case.image().resize((1024, 1024), Image.Resampling.LANCZOS), "JPEG", quality=95)
    outcome = run_pipeline(big, PipelineSettings.from_preset("marketplace"), cases.FixedCutter(case.mask))
    assert outcome.verdict == "pass", outcome.reasons
    image = _decode(outcome.data)
    assert image.format == "JPEG" and max(image.size) >= 1000
    x0, y0, x1, y1 = _subject_box_on_white(image)
    assert max((x1 - x0) / image.width, (y1 - y0) / image.height) >= 0.85
    rgb = np.asarray(image.convert("RGB"))
    frame = np.concatenate([rgb[:8].reshape(-1, 3), rgb[-8:].reshape(-1, 3), rgb[:, :8].reshape(-1, 3)])
    assert (frame == 255).all()  # pure 255,255,255 background, no shadow
    assert outcome.scores["background_purity"] >= 0.999


def test_marketplace_holds_back_a_tiny_source_it_would_have_to_blow_up() -> None:
    case = cases.easy()
    small = Image.open(io.BytesIO(case.data)).resize((128, 128))
    outcome = run_pipeline(
        cases.encode(small, "JPEG"), PipelineSettings.from_preset("marketplace"), cases.FixedCutter(case.mask)
    )
    assert max(_decode(outcome.data).size) >= 1000
    assert outcome.verdict == "fail" and any("upscale" in r for r in outcome.reasons)


def test_transparent_preset_writes_png_with_alpha() -> None:
    case = cases.easy()
    outcome = run_pipeline(
        case.data, PipelineSettings.from_preset("transparent"), cases.FixedCutter(case.mask)
    )
    image = _decode(outcome.data)
    assert outcome.mime == "image/png" and image.mode == "RGBA"
    assert image.getpixel((1, 1))[3] == 0  # type: ignore[index]
    assert image.getpixel((image.width // 2, image.height // 2))[3] == 255  # type: ignore[index]
    assert outcome.verdict == "pass", outcome.reasons


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_input_format_is_kept(fmt: str, mime: str) -> None:
    case = cases.easy()
    data = cases.encode(case.image(), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    outcome = run_pipeline(data, PipelineSettings.from_preset(), cases.FixedCutter(case.mask))
    assert outcome.mime == mime and _decode(outcome.data).format == fmt


def _on_white(box: tuple[int, int, int, int], size: tuple[int, int] = (600, 600)) -> Image.Image:
    image = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(image).rectangle(box, fill=(30, 90, 200))
    return image


def test_clean_white_input_is_reframed_without_the_model() -> None:
    cutter = cases.FixedCutter(Image.new("L", (10, 10), 0))
    data = cases.encode(_on_white((40, 60, 300, 400)), "PNG")
    outcome = run_pipeline(data, PipelineSettings.from_preset(shadow=False), cutter)
    assert cutter.calls == 0
    assert outcome.verdict == "skip" and outcome.data is not None
    assert "re-framed only" in outcome.reasons[0]
    image = _decode(outcome.data)
    x0, y0, x1, y1 = _subject_box_on_white(image)
    assert abs((x0 + x1) / 2 - image.width / 2) <= 2 and abs((y0 + y1) / 2 - image.height / 2) <= 2


def test_clean_input_skip_setting_and_already_framed_input() -> None:
    cutter = cases.FixedCutter(Image.new("L", (10, 10), 0))
    data = cases.encode(_on_white((40, 60, 300, 400)), "PNG")
    skipped = run_pipeline(data, PipelineSettings.from_preset(clean_input="skip"), cutter)
    assert skipped.verdict == "skip" and skipped.data is None
    flat = PipelineSettings.from_preset()
    framed = run_pipeline(data, flat, cutter).data
    assert framed is not None
    again = run_pipeline(framed, flat, cutter)
    assert again.verdict == "skip" and again.data is None and "already framed" in again.reasons[0]
    assert cutter.calls == 0


def test_clean_white_input_for_a_transparent_result_uses_the_model() -> None:
    image = _on_white((40, 60, 300, 400))
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rectangle((40, 60, 300, 400), fill=255)
    cutter = cases.FixedCutter(mask)
    outcome = run_pipeline(cases.encode(image, "PNG"), PipelineSettings.from_preset("transparent"), cutter)
    assert cutter.calls == 1 and outcome.verdict != "skip"


def test_transparent_input_is_reframed_with_its_own_alpha() -> None:
    case = cases.easy()
    cutout = case.image().convert("RGBA")
    cutout.putalpha(case.mask)
    cutter = cases.FixedCutter(Image.new("L", (10, 10), 0))
    outcome = run_pipeline(cases.encode(cutout, "PNG"), PipelineSettings.from_preset("transparent"), cutter)
    assert cutter.calls == 0 and outcome.verdict == "skip", outcome.reasons
    assert outcome.mask is not None and cases.iou(case.mask, outcome.mask) > 0.98


def test_lifestyle_scene_goes_to_review_uncut() -> None:
    case = cases.easy()
    two = Image.new("L", case.image().size, 0)
    ImageDraw.Draw(two).rectangle((20, 100, 200, 400), fill=255)
    ImageDraw.Draw(two).ellipse((260, 80, 480, 420), fill=255)
    outcome = run_pipeline(case.data, PipelineSettings(), cases.FixedCutter(two))
    assert outcome.verdict == "review" and outcome.data is None
    assert outcome.reasons[0].startswith("lifestyle scene")


def test_model_indecision_is_judged_on_the_raw_mask() -> None:
    case = cases.easy()
    foggy = case.mask.copy()
    ImageDraw.Draw(foggy).rectangle((0, 380, 511, 511), fill=110)  # the model could not decide here
    outcome = run_pipeline(case.data, PipelineSettings(), cases.FixedCutter(foggy))
    assert outcome.verdict == "fail" and any("uncertain" in reason for reason in outcome.reasons)


def test_refused_input_raises_bad_image_error() -> None:
    cutter = cases.FixedCutter(Image.new("L", (10, 10), 0))
    with pytest.raises(BadImageError) as info:
        run_pipeline(b"<html>oops</html>", PipelineSettings(), cutter)
    assert info.value.code == "not_an_image" and cutter.calls == 0


def test_output_is_deterministic() -> None:
    case = cases.easy()
    first = run_pipeline(case.data, PipelineSettings(), cases.FixedCutter(case.mask))
    second = run_pipeline(case.data, PipelineSettings(), cases.FixedCutter(case.mask))
    assert first.data == second.data and first.scores == second.scores


def test_mockup_setting_renders_into_a_template() -> None:
    case = cases.easy()
    outcome = run_pipeline(
        case.data, PipelineSettings.from_preset(mockup="wood-table"), cases.FixedCutter(case.mask)
    )
    assert (outcome.width, outcome.height) == (1200, 1200) and outcome.data is not None
    assert "background_purity" not in outcome.scores
    with pytest.raises(ConfigurationError, match="unknown mockup template"):
        run_pipeline(case.data, PipelineSettings.from_preset(mockup="nope"), cases.FixedCutter(case.mask))
