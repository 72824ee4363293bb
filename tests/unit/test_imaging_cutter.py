"""Cutters: model choice and errors, the per-process session cache, the colour key, alpha matting,
and the golden test against the rembg reference cut-outs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from jobs.imaging import ColorKeyCutter, get_cutter
from jobs.imaging.cutter import refine_with_matting
from jobs.imaging.errors import ConfigurationError
from tests.unit import imaging_cases as cases

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "devkit" / "sandbox" / "assets" / "rembg-examples"


@pytest.fixture(autouse=True)
def _model_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(cases.MODEL_HOME))


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(ConfigurationError, match="unknown cut-out model") as info:
        get_cutter("u3net")
    assert "u2netp" in (info.value.hint or "")


def test_missing_model_file_says_where_to_put_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"isnet-general-use\.onnx is missing") as info:
        get_cutter("isnet-general-use")
    assert "U2NET_HOME" in (info.value.hint or "")


def test_models_that_need_more_than_a_name_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="cannot be used by name"):
        get_cutter("u2net_custom")


def test_colour_key_keeps_enclosed_background_and_uses_alpha_when_present() -> None:
    image = Image.new("RGB", (100, 100), (255, 255, 255))
    ImageDraw.Draw(image).ellipse((20, 20, 80, 80), outline=(40, 40, 40), width=8)  # a ring
    mask = np.asarray(ColorKeyCutter(tolerance=10).mask(image))
    assert mask[2, 2] == 0 and mask[50, 22] == 255
    assert mask[50, 50] == 255  # the ring's inside is not connected to the border: kept
    rgba = image.convert("RGBA")
    rgba.putalpha(Image.new("L", (100, 100), 7))
    assert ColorKeyCutter().mask(rgba).getpixel((50, 50)) == 7


def test_alpha_matting_refines_only_the_unsure_band() -> None:
    case = cases.easy()
    blurred = case.mask.resize((64, 64)).resize(case.mask.size, Image.Resampling.BILINEAR)
    refined = refine_with_matting(case.image(), blurred)
    assert refined.size == case.mask.size
    assert cases.iou(case.mask, refined) >= cases.iou(case.mask, blurred) - 0.01
    sure = np.asarray(blurred) > 240
    assert (np.asarray(refined)[sure] == np.asarray(blurred)[sure]).all()
