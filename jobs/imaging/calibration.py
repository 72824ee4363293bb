"""Choosing QA thresholds from labelled cut-outs (generated photos with true masks, or a store's
approve/reject decisions), and replaying thresholds over them.

The rule (:func:`propose`): **no bad cut-out published on the labelled set, as few good ones held as
that allows.**

1. Every calibrated gate starts at its current pass limit, loosened just enough to hold no good
   sample (to the worst score a good sample has, where that is worse).
2. While a bad sample would still be published, one gate is tightened: of all (gate, published bad
   sample) pairs, the one that newly holds the fewest published good samples (ties: catches the most
   bad ones).  Its pass limit goes halfway between that bad sample's score and the nearest good score
   on the passing side, leaving a margin for photos the set does not hold.
3. A gate that had to be loosened past its current *review* limit (it would have failed good
   samples outright) and that holds no bad sample on its own (every bad one it holds, another gate
   holds too) is switched off (:data:`OFF`): the set shows its false alarms and no catch.
4. Review limits: a gate fails a cut-out outright only when it is worse than every good sample of
   the set (also those other gates hold): its review limit is its current one loosened to the worst
   good score, and never tighter than its pass limit.  Good samples it holds go to a person.
5. The detectors of specific failures (:data:`REVIEW_ONLY`: reflection, filled holes, background
   patches, people, misplaced edge) are heuristics measured on generated scenes: they hold a cut-out
   for a person and never fail it outright (their review limit is :data:`OFF`), so a false alarm on
   a good real photo stays one approval away from the store.

Gates outside :data:`CALIBRATED_GATES` are product rules (sizes, output purity, resolution): they keep
their limits and are applied as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from jobs.imaging.gates import Gate, Stage
from jobs.imaging.quality import judge
from jobs.imaging.settings import Thresholds

#: The limit of a switched-off gate (it passes every score).
OFF = 1e6
#: Detectors of specific failures: they hold a cut-out for a person, never fail it (rule 5).
REVIEW_ONLY = frozenset({"reflection", "filled_holes", "background_patches", "people", "misplaced_edge"})
#: Gates judging the cut itself, whose limits calibration chooses.
CALIBRATED_GATES = (
    "edges_touched",
    "main_component",
    "thin_structure",
    "uncertain",
    "new_holes",
    "halo",
    "clipped",
    "low_contrast",
    "camouflage",
    "reflection",
    "filled_holes",
    "background_patches",
    "people",
    "misplaced_edge",
)


@dataclass(frozen=True)
class Sample:
    """One labelled cut-out: its QA scores (empty when it was held before scoring) and whether it is good."""

    name: str
    scores: dict[str, float]
    good: bool


@dataclass
class Replay:
    """What thresholds do to a labelled set: which samples they publish, and which gates held the rest."""

    published: dict[str, bool] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    held_by: dict[str, list[str]] = field(default_factory=dict)

    def count(self, samples: Iterable[Sample], good: bool, published: bool) -> int:
        """How many good (or bad) samples are published (or held)."""
        return sum(1 for s in samples if s.good == good and self.published[s.name] == published)


def replay(samples: Sequence[Sample], thresholds: Thresholds) -> Replay:
    """Judge every sample with ``thresholds`` (a sample without scores is held: it never got that far)."""
    result = Replay()
    for sample in samples:
        if not sample.scores:
            result.published[sample.name], result.verdicts[sample.name] = False, "review"
            result.held_by[sample.name] = ["not cut"]
            continue
        judgement = judge(sample.scores, thresholds, stages_of(sample.scores))
        result.published[sample.name] = judgement.verdict == "pass"
        result.verdicts[sample.name] = judgement.verdict
        result.held_by[sample.name] = [gate.name for gate in judgement.gates]
    return result


def stages_of(scores: dict[str, float]) -> list[Stage]:
    """The stages whose measures ``scores`` holds: mask always, edges and output when they ran."""
    stages: list[Stage] = ["mask"]
    if "halo" in scores:
        stages.append("edges")
    if "background_purity" in scores:
        stages.append("output")
    return stages


def _passes(gate: Gate, value: float, pass_at: float) -> bool:
    return value >= pass_at if gate.better == "higher" else value <= pass_at


def propose(
    samples: Sequence[Sample], base: Thresholds, gates: Sequence[str] = CALIBRATED_GATES
) -> Thresholds:
    """Thresholds chosen from ``samples`` by the rule in this module's docstring."""
    typed = {g.name: g for g in base.typed() if g.name in gates}
    fixed = replace(base, **{name: _open(g) for name, g in typed.items()})
    # Samples the fixed gates (or an early stop) already hold play no part.
    open_replay = replay(samples, fixed)
    live = [
        s
        for s in samples
        if open_replay.published[s.name] and all(g.score in s.scores for g in typed.values())
    ]
    good = [s for s in live if s.good]
    limits: dict[str, float] = {}
    for name, gate in typed.items():
        values = [s.scores[gate.score] for s in good]
        limits[name] = _loosest(gate, [gate.pass_at, *values])

    def published(sample: Sample) -> bool:
        return all(_passes(g, sample.scores[g.score], limits[n]) for n, g in typed.items())

    while True:
        bad = [s for s in live if not s.good and published(s)]
        if not bad:
            break
        best: tuple[int, int, str, float] | None = None
        for name, gate in typed.items():
            for target in bad:
                limit = _between(gate, target.scores[gate.score], [s.scores[gate.score] for s in good])
                newly_held = sum(
                    1 for s in good if published(s) and not _passes(gate, s.scores[gate.score], limit)
                )
                caught = sum(1 for s in bad if not _passes(gate, s.scores[gate.score], limit))
                key = (newly_held, -caught, name, limit)
                if best is None or key[:2] < best[:2]:
                    best = key
        assert best is not None
        limits[best[2]] = best[3]
    for name, gate in typed.items():
        if _beyond_review(gate, limits[name]) and not _catches_alone(name, typed, limits, live):
            limits[name] = OFF if gate.better == "lower" else -OFF
    every_good = [s for s in samples if s.good and all(g.score in s.scores for g in typed.values())]
    chosen = {}
    for name, gate in typed.items():
        values = [s.scores[gate.score] for s in every_good]
        review = _loosest(gate, [gate.review_at, limits[name], *values])
        chosen[name] = (_outward(gate, limits[name]), _outward(gate, review))
    return replace(base, **_ordered(typed, chosen))


def _loosest(gate: Gate, values: list[float]) -> float:
    return min(values) if gate.better == "higher" else max(values)


def _beyond_review(gate: Gate, limit: float) -> bool:
    return limit < gate.review_at if gate.better == "higher" else limit > gate.review_at


def _catches_alone(
    name: str, typed: dict[str, Gate], limits: dict[str, float], live: Sequence[Sample]
) -> bool:
    """Whether gate ``name`` holds a bad sample that no other calibrated gate holds."""
    for sample in live:
        if sample.good:
            continue
        held = [n for n, g in typed.items() if not _passes(g, sample.scores[g.score], limits[n])]
        if held == [name]:
            return True
    return False


def _open(gate: Gate) -> tuple[float, float]:
    """Limits that pass every value (to find what the other gates hold)."""
    return (-1e12, -1e12) if gate.better == "higher" else (1e12, 1e12)


def _between(gate: Gate, bad: float, goods: list[float]) -> float:
    """A pass limit that holds ``bad``: halfway to the nearest good score on the passing side."""
    if gate.better == "higher":
        passing = [g for g in goods if g > bad]
        return (bad + min(passing)) / 2 if passing else bad + 1e-6
    passing = [g for g in goods if g < bad]
    if passing:
        return (bad + max(passing)) / 2
    return bad / 2 if bad > 0 else bad - 1e-6


def _outward(gate: Gate, limit: float) -> float:
    """``limit`` rounded to 4 decimals in the passing direction (a sample on the limit stays on its side)."""
    scaled = limit * 10_000
    return (math.floor(scaled) if gate.better == "higher" else math.ceil(scaled - 1e-9)) / 10_000


def _ordered(typed: dict[str, Gate], chosen: dict[str, tuple[float, float]]) -> dict:
    """Keep the order of each gate's limits valid after rounding; detectors only ever hold (rule 5)."""
    out = {}
    for name, (pass_at, review_at) in chosen.items():
        review_at = min(review_at, pass_at) if typed[name].better == "higher" else max(review_at, pass_at)
        out[name] = (pass_at, OFF if name in REVIEW_ONLY else review_at)
    return out
