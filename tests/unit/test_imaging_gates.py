"""QA gates as typed objects and the calibration rule (pure: no model, no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jobs.imaging import PipelineSettings, Thresholds
from jobs.imaging.calibration import OFF, Sample, propose, replay
from jobs.imaging.errors import ConfigurationError
from jobs.imaging.gates import Gate
from jobs.imaging.quality import judge
from tests.helpers import CLEAN_SCORES

pytestmark = pytest.mark.unit


def test_a_gate_knows_its_direction_instead_of_guessing_it_from_its_limits() -> None:
    halo = Gate.build("halo", (0.1, 0.3))
    assert (halo.score, halo.better, halo.stage) == ("halo", "lower", "edges")
    assert [halo.verdict(v) for v in (0.05, 0.1, 0.2, 0.5)] == ["pass", "pass", "review", "fail"]
    size = Gate.build("subject_size_min", (250, 80))
    assert [size.verdict(v) for v in (300, 250, 100, 10)] == ["pass", "pass", "review", "fail"]
    strict = Gate.build("halo", (0.0, 0.0))  # equal limits on a lower-is-better gate: no review band
    assert strict.verdict(0.0) == "pass" and strict.verdict(0.9) == "fail"
    assert Gate.build("reflection", (0.1, 0.3)).verdict(float("nan")) == "fail"


@pytest.mark.parametrize(
    "gates",
    [
        {"halo": [0.4, 0.1]},
        {"subject_size_min": [80, 250]},
        {"people": [0.1, float("inf")]},
        {"nope": [1, 2]},
    ],
)
def test_thresholds_are_validated_when_a_store_sets_them(gates: dict[str, list[float]]) -> None:
    with pytest.raises(ConfigurationError) as info:
        PipelineSettings.from_preset("clean-white", thresholds=gates)
    assert info.value.hint


def test_a_missing_score_is_an_error_not_a_pass() -> None:
    scores = dict(CLEAN_SCORES)
    del scores["halo"]
    with pytest.raises(ConfigurationError, match="no halo score"):
        judge(scores, Thresholds(), stages=["edges"])
    judged = judge({"mask_area": 0.3, "halo": 0.5}, Thresholds(), stages=[])
    assert judged.verdict == "pass"  # only the stages that ran are judged


def test_judge_takes_the_worst_gate_and_says_why() -> None:
    scores = {"mask_area": 0.001, "edges_touched": 0.0, "main_component": 1.0, "thin_structure": 0.0}
    scores |= {"uncertain": 0.0, "subject_size": 400.0}
    judged = judge(scores, Thresholds(), stages=["mask"])
    assert judged.verdict == "fail" and [g.name for g in judged.gates] == ["mask_area_min"]
    assert judged.reasons[0].startswith("fail: mask_area 0.001 is below the review limit")


def _sample(name: str, good: bool, **scores: float) -> Sample:
    return Sample(name, {**CLEAN_SCORES, "halo": 0.0, "people": 0.0, **scores}, good)


def test_calibration_publishes_no_bad_sample_and_holds_as_few_good_ones_as_that_allows() -> None:
    samples = [
        _sample("good-1", True, halo=0.05),
        _sample("good-2", True, halo=0.20, people=0.02),
        _sample("bad-halo", False, halo=0.30),
        _sample("bad-hand", False, halo=0.04, people=0.40),
    ]
    base = Thresholds(halo=(0.1, 0.4), people=(0.5, 0.6))
    chosen = propose(samples, base, gates=("halo", "people"))
    result = replay(samples, chosen)
    assert result.published == {"good-1": True, "good-2": True, "bad-halo": False, "bad-hand": False}
    assert chosen.halo == (0.2, 0.4)  # loosened to pass the worst good one; it still holds bad-halo
    assert chosen.people[0] == pytest.approx(0.21)  # tightened halfway between a good score and bad-hand
    # A gate that would fail good samples and holds no bad one on its own is switched off.
    noisy = [replace(s, scores={**s.scores, "clipped": 0.5}) for s in samples]
    assert propose(noisy, base, gates=("halo", "people", "clipped")).clipped == (OFF, OFF)
    # Where a bad sample looks like a good one, the rule holds the good one rather than publish the bad.
    clash = [*samples, _sample("bad-twin", False, halo=0.20, people=0.02)]
    strict = replay(clash, propose(clash, base, gates=("halo", "people")))
    assert not strict.published["bad-twin"] and strict.count(clash, good=True, published=True) == 1
    assert strict.verdicts["good-2"] == "review"  # a held good cut-out goes to a person, not to fail
