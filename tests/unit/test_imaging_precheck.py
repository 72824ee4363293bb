"""Pre-check: what needs no model (clean white / transparent), and what has no single subject."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image, ImageDraw

from jobs.imaging import PipelineSettings, load_image
from jobs.imaging.precheck import precheck, single_subject_problem
from tests.unit.imaging_cases import easy, encode

pytestmark = pytest.mark.unit


def _check(image: Image.Image, **overrides: Any) -> str:
    settings = PipelineSettings.from_preset(**overrides)
    return precheck(load_image(encode(image, "PNG"), settings), settings).kind


def test_kinds() -> None:
    white = Image.new("RGB", (200, 200), (252, 253, 251))
    ImageDraw.Draw(white).rectangle((50, 50, 150, 150), fill=(20, 20, 20))
    assert _check(white) == "white"
    assert _check(white, white_tolerance=0) == "photo"  # marketplace-strict: only 255 counts
    cut = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(cut).rectangle((50, 50, 150, 150), fill=(200, 0, 0, 255))
    assert _check(cut) == "transparent"
    assert _check(easy().image()) == "photo"
    touching = white.copy()
    ImageDraw.Draw(touching).rectangle((0, 0, 199, 40), fill=(120, 60, 10))  # subject runs off the top
    assert _check(touching) == "photo"


def _mask(*boxes: tuple[int, int, int, int], size: tuple[int, int] = (300, 300)) -> Image.Image:
    mask = Image.new("L", size, 0)
    for box in boxes:
        ImageDraw.Draw(mask).rectangle(box, fill=255)
    return mask


def test_single_subject_problems() -> None:
    assert single_subject_problem(_mask((50, 50, 250, 250))) is None
    assert single_subject_problem(_mask((50, 50, 250, 250), (260, 10, 262, 12))) is None  # a speck is fine
    two = single_subject_problem(_mask((10, 50, 120, 250), (160, 50, 290, 250)))
    assert two is not None and "2 separate subjects" in two
    assert "no clear subject" in (single_subject_problem(_mask()) or "")
    assert "whole frame" in (single_subject_problem(_mask((0, 0, 299, 299))) or "")
