"""The QA evaluation set: deterministic scenes with exact masks, split into parts that share no kind
and no seed (so held-out figures are about photos the calibration never saw)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sandbox import qa_scenes

pytestmark = pytest.mark.unit

KINDS = [*qa_scenes.CALIBRATION_KINDS, *qa_scenes.HELD_OUT_KINDS]


def test_the_parts_share_no_kind_no_seed_and_no_real_photo() -> None:
    assert not set(qa_scenes.CALIBRATION_KINDS) & set(qa_scenes.HELD_OUT_KINDS)
    assert not set(qa_scenes.CALIBRATION_SEEDS) & set(qa_scenes.HELD_OUT_SEEDS)
    assert not set(qa_scenes.CALIBRATION_REAL) & set(qa_scenes.HELD_OUT_REAL)


@pytest.mark.parametrize("kind", KINDS)
def test_scenes_are_deterministic_with_a_mask_that_matches_the_photo(kind: str) -> None:
    scene = qa_scenes.scene(kind, 7, (192, 192))
    assert scene.data == qa_scenes.scene(kind, 7, (192, 192)).data
    photo = np.asarray(Image.open(io.BytesIO(scene.data)).convert("RGB"), np.float32)
    truth = np.asarray(scene.mask, np.float32)
    assert 0.02 < (truth >= 128).mean() < 0.6  # one product, neither a speck nor the whole frame
    edges = sum(np.hypot(*np.gradient(photo[..., c])) for c in range(3))
    boundary = np.hypot(*np.gradient(truth)) > 60
    assert (edges[boundary] > 6).mean() > (0.3 if kind == "dark-on-dark" else 0.6)  # the photo's edges


def test_real_photos_come_with_their_reference_cut_outs() -> None:
    held = qa_scenes.held_out_set(range(0))
    assert [s.name for s in held] == [f"real:{n}" for n in qa_scenes.HELD_OUT_REAL]
    assert all(s.mask.size == Image.open(io.BytesIO(s.data)).size for s in held)


def test_mask_iou() -> None:
    a = Image.new("L", (10, 10), 0)
    a.paste(255, (0, 0, 5, 10))
    b = Image.new("L", (10, 10), 0)
    b.paste(255, (0, 0, 10, 10))
    assert qa_scenes.mask_iou(a, b) == 0.5 and qa_scenes.mask_iou(b, b) == 1.0
