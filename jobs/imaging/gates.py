"""QA gates as typed objects: which score a gate reads, which way is better, and its two limits.

A gate's direction is part of its definition (:data:`GATE_SPECS`), never guessed from the order of
its limits.  Limits are validated when a gate is built, so a store's thresholds are checked when they
are set: a higher-is-better gate needs ``pass_at >= review_at``, a lower-is-better one ``pass_at <=
review_at`` (equal limits mean "no review band").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from jobs.imaging.errors import ConfigurationError

Direction = Literal["higher", "lower"]
#: When a score is measured: "mask" always (the subject mask), "edges" when a cut was made on the
#: photo, "output" when a studio canvas was rendered and encoded.
Stage = Literal["mask", "edges", "output"]
STAGES: tuple[Stage, ...] = ("mask", "edges", "output")
VERDICT_ORDER = {"pass": 0, "review": 1, "fail": 2}


@dataclass(frozen=True)
class GateSpec:
    """What a gate reads and which way is better."""

    score: str
    better: Direction
    stage: Stage


def _spec(score: str, better: Direction, stage: Stage) -> GateSpec:
    return GateSpec(score, better, stage)


#: Every gate by name.  ``*_min``/``*_max`` gates bound the same score from below/above.
GATE_SPECS: dict[str, GateSpec] = {
    "mask_area_min": _spec("mask_area", "higher", "mask"),
    "mask_area_max": _spec("mask_area", "lower", "mask"),
    "edges_touched": _spec("edges_touched", "lower", "mask"),
    "main_component": _spec("main_component", "higher", "mask"),
    "thin_structure": _spec("thin_structure", "lower", "mask"),
    "uncertain": _spec("uncertain", "lower", "mask"),
    "subject_size_min": _spec("subject_size", "higher", "mask"),
    "new_holes": _spec("new_holes", "lower", "edges"),
    "halo": _spec("halo", "lower", "edges"),
    "clipped": _spec("clipped", "lower", "edges"),
    "low_contrast": _spec("low_contrast", "lower", "edges"),
    "camouflage": _spec("camouflage", "lower", "edges"),
    "reflection": _spec("reflection", "lower", "edges"),
    "filled_holes": _spec("filled_holes", "lower", "edges"),
    "background_patches": _spec("background_patches", "lower", "edges"),
    "people": _spec("people", "lower", "edges"),
    "misplaced_edge": _spec("misplaced_edge", "lower", "edges"),
    "color_fidelity": _spec("color_fidelity", "lower", "output"),
    "background_purity": _spec("background_purity", "higher", "output"),
    "resolution": _spec("resolution", "higher", "output"),
    "upscale": _spec("upscale", "lower", "output"),
    "fill_min": _spec("fill", "higher", "output"),
}


@dataclass(frozen=True)
class Gate:
    """One QA gate: ``score`` compared with ``pass_at`` and ``review_at`` in direction ``better``."""

    name: str
    score: str
    better: Direction
    stage: Stage
    pass_at: float
    review_at: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.pass_at) and math.isfinite(self.review_at)):
            raise ConfigurationError(
                f"QA gate {self.name} needs finite limits, got [{self.pass_at}, {self.review_at}]",
                hint="give two numbers [pass_at, review_at]",
            )
        ordered = (
            self.pass_at >= self.review_at if self.better == "higher" else self.pass_at <= self.review_at
        )
        if not ordered:
            relation = ">=" if self.better == "higher" else "<="
            raise ConfigurationError(
                f"QA gate {self.name}: {self.better} {self.score} is better, so pass_at {self.pass_at:g} "
                f"must be {relation} review_at {self.review_at:g}",
                hint=f"swap the two limits of {self.name}",
            )

    @classmethod
    def build(cls, name: str, limits: tuple[float, float]) -> Gate:
        """The gate ``name`` with ``(pass_at, review_at)``; unknown names are configuration errors."""
        spec = GATE_SPECS.get(name)
        if spec is None:
            raise ConfigurationError(
                f"unknown QA gate {name!r}", hint=f"known gates: {', '.join(sorted(GATE_SPECS))}"
            )
        return cls(name, spec.score, spec.better, spec.stage, float(limits[0]), float(limits[1]))

    def verdict(self, value: float) -> str:
        """ "pass", "review" or "fail" for ``value`` (NaN fails)."""
        if math.isnan(value):
            return "fail"
        sign = 1.0 if self.better == "higher" else -1.0
        if sign * value >= sign * self.pass_at:
            return "pass"
        return "review" if sign * value >= sign * self.review_at else "fail"

    def reason(self, value: float, outcome: str) -> str:
        """Why ``value`` got ``outcome`` (for a gate that did not pass)."""
        relation = "below" if self.better == "higher" else "above"
        bound, which = (self.pass_at, "pass") if outcome == "review" else (self.review_at, "review")
        return f"{outcome}: {self.score} {value:.3f} is {relation} the {which} limit {bound:g}"

    def describe(self) -> str:
        """The limits for people: "pass ≤ 0.1, review ≤ 0.3"."""
        sign = "≥" if self.better == "higher" else "≤"
        return f"pass {sign} {self.pass_at:g}, review {sign} {self.review_at:g}"
