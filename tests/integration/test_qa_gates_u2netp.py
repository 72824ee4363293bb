"""The calibrated gates with the real model on a tiny held-out subset (the full figures come from
bench/qa_eval.py): a bad cut-out (a glossy floor's reflection kept) is held, a good one published."""

from __future__ import annotations

import pytest
from sandbox.qa_scenes import mask_iou, scene

from jobs.imaging import PipelineSettings, get_cutter, run_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("kind, seed", [("black-reflective-floor", 100), ("grey-sweep", 100)])
def test_u2netp_cut_outs_are_published_only_when_good(kind: str, seed: int) -> None:
    photo = scene(kind, seed)
    outcome = run_pipeline(photo.data, PipelineSettings.from_preset(), get_cutter("u2netp"))
    assert outcome.mask is not None
    iou = mask_iou(outcome.mask, photo.mask)
    if iou < 0.9:
        assert outcome.verdict != "pass", (kind, iou, outcome.scores)
    else:
        assert outcome.verdict == "pass", (kind, iou, outcome.reasons)
