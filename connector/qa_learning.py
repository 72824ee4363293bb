"""Learning from people: every approve and reject is kept with the scores the gates saw; a store's
decisions propose its QA thresholds (by the rule of :mod:`jobs.imaging.calibration`, an approved
result being a good cut-out and a rejected one a bad one), and its QA outcomes are counted per day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import ConflictError, NotFound
from connector.models import Image, ImageVersion, QaDecision, Store, VersionKind
from connector.services import Services

if TYPE_CHECKING:  # the imaging library loads numpy and scipy: only where calibration runs
    from jobs.imaging import Thresholds
    from jobs.imaging.calibration import Replay, Sample


def record_decision(session: Session, version: ImageVersion, image: Image, decision: str, actor: str) -> None:
    """Keep a person's ``decision`` ("approve" or "reject") on ``version`` with its scores."""
    session.add(
        QaDecision(
            store_id=image.store_id,
            image_id=image.id,
            version_id=version.id,
            decision=decision,
            verdict=version.verdict,
            scores=dict(version.scores or {}),
            model=str((version.settings or {}).get("model", "")),
            actor=actor,
        )
    )


def decision_samples(session: Session, store_id: int) -> list[Sample]:
    """The store's decided results as labelled samples (the latest decision on a version counts)."""
    from jobs.imaging.calibration import Sample

    latest: dict[int, QaDecision] = {}
    for row in session.scalars(
        select(QaDecision).where(QaDecision.store_id == store_id).order_by(QaDecision.id)
    ):
        latest[row.version_id] = row
    return [
        Sample(f"version {vid}", dict(row.scores), row.decision == "approve") for vid, row in latest.items()
    ]


@dataclass
class Proposal:
    """Thresholds proposed from a store's decisions, and what they would have changed."""

    samples: list[Sample]
    current: Thresholds
    proposed: Thresholds
    before: Replay
    after: Replay
    changed_gates: dict[str, tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A report for people: the gates that move, the counts before/after and every changed result."""
        approved = [s for s in self.samples if s.good]
        rejected = [s for s in self.samples if not s.good]
        out = [f"{len(self.samples)} decisions: {len(approved)} approved, {len(rejected)} rejected"]
        for name, (old, new) in self.changed_gates.items():
            out.append(f"  {name}: [{old[0]:g}, {old[1]:g}] -> [{new[0]:g}, {new[1]:g}]")
        if not self.changed_gates:
            out.append("  no gate changes")
        for label, replayed in (("now", self.before), ("proposed", self.after)):
            out.append(
                f"{label}: approved published {replayed.count(self.samples, True, True)}/{len(approved)}, "
                f"rejected published {replayed.count(self.samples, False, True)}/{len(rejected)}"
            )
        for s in self.samples:
            was, will = self.before.published[s.name], self.after.published[s.name]
            if was != will:
                decided = "approved" if s.good else "rejected"
                out.append(f"  {s.name} ({decided}): {_state(was)} -> {_state(will)}")
        return out


def _state(published: bool) -> str:
    return "published" if published else "held"


def propose_for_store(services: Services, store_id: int) -> Proposal:
    """Thresholds for a store from its people's decisions (``ConflictError`` when there are none)."""
    from connector.imaging import service_errors
    from connector.processing import store_pipeline_settings
    from jobs.imaging.calibration import propose, replay

    with services.session() as s:
        store = s.get(Store, store_id)
        if store is None:
            raise NotFound(f"store {store_id} does not exist")
        current = store_pipeline_settings(services, store).thresholds
        samples = [sample for sample in decision_samples(s, store_id) if _complete(sample, current)]
    if not samples:
        raise ConflictError(
            "this store has no approve or reject decisions with scores yet",
            hint="approve or reject results in review first; calibration learns from those decisions",
        )
    with service_errors():
        proposed = propose(samples, current)
    changed = {
        name: (old, proposed.gates()[name])
        for name, old in current.gates().items()
        if proposed.gates()[name] != old
    }
    return Proposal(samples, current, proposed, replay(samples, current), replay(samples, proposed), changed)


def _complete(sample: Sample, thresholds: Thresholds) -> bool:
    """Whether a decision has every score today's gates read (older results may lack newer scores)."""
    from jobs.imaging.calibration import stages_of

    ran = set(stages_of(sample.scores))
    return bool(sample.scores) and all(g.score in sample.scores for g in thresholds.typed() if g.stage in ran)


def apply_proposal(services: Services, store_id: int, proposal: Proposal) -> None:
    """Save the proposal's changed gates into the store's pipeline settings (validated first)."""
    from connector.processing import store_pipeline_settings

    with services.session() as s:
        store = s.get(Store, store_id)
        if store is None:
            raise NotFound(f"store {store_id} does not exist")
        pipeline = dict((store.settings or {}).get("pipeline", {}))
        thresholds = dict(pipeline.get("thresholds") or {})
        thresholds.update({name: list(new) for name, (_old, new) in proposal.changed_gates.items()})
        pipeline["thresholds"] = thresholds
        store.settings = {**(store.settings or {}), "pipeline": pipeline}
        store_pipeline_settings(services, store)  # ConfigurationError before anything is saved


def qa_history(session: Session, store_id: int, days: int = 30) -> list[dict[str, Any]]:
    """Per day (newest first): results by QA verdict and people's approvals/rejections."""
    since = datetime.now(UTC) - timedelta(days=days)
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    results = session.execute(
        select(ImageVersion.created_at, ImageVersion.verdict)
        .join(Image, Image.id == ImageVersion.image_id)
        .where(
            Image.store_id == store_id,
            ImageVersion.kind == VersionKind.RESULT.value,
            ImageVersion.created_at >= since,
        )
    )
    for created, verdict in results:
        per_day[created.strftime("%Y-%m-%d")][verdict or "none"] += 1
    decisions = session.execute(
        select(QaDecision.created_at, QaDecision.decision).where(
            QaDecision.store_id == store_id, QaDecision.created_at >= since
        )
    )
    for created, decision in decisions:
        per_day[created.strftime("%Y-%m-%d")][decision] += 1
    return [{"day": day, **counts} for day, counts in sorted(per_day.items(), reverse=True)]
