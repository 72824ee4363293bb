"""The state machine of images, versions, operations, jobs, runs and webhooks: every move, table-driven."""

from __future__ import annotations

import enum
import itertools
from types import SimpleNamespace

import pytest

from connector.states import (
    JOB_FINAL,
    JOB_LIVE,
    MACHINES,
    RUN_FINAL,
    IllegalMove,
    ImageStatus,
    JobStatus,
    OperationState,
    RunStatus,
    VersionState,
    WebhookState,
    allowed,
    move,
    set_state,
    sources,
)

pytestmark = pytest.mark.unit

Im, V, Op, J, R, W = ImageStatus, VersionState, OperationState, JobStatus, RunStatus, WebhookState

#: the moves that carry the workflow's meaning: (from, to, allowed)
RULES: list[tuple[enum.StrEnum, enum.StrEnum, bool]] = [
    # images
    (Im.NEW, Im.QUEUED, True),
    (Im.QUEUED, Im.PROCESSING, True),
    (Im.PROCESSING, Im.REVIEW, True),
    (Im.PROCESSING, Im.APPROVED, True),
    (Im.PROCESSING, Im.FAILED, True),
    (Im.PROCESSING, Im.QUEUED, True),  # a transient error: back in the queue
    (Im.APPROVED, Im.PUBLISHED, True),
    (Im.PUBLISHED, Im.ROLLED_BACK, True),
    (Im.PUBLISHED, Im.SKIPPED, False),  # our result on the store is never "nothing to do"
    (Im.SKIPPED, Im.REVIEW, False),  # a decision needs processing first
    (Im.GONE, Im.NEW, True),  # shown again on the store
    (Im.GONE, Im.QUEUED, False),
    (Im.GONE, Im.PUBLISHED, False),
    # versions
    (V.DRAFT, V.REVIEW, True),
    (V.REVIEW, V.APPROVED, True),
    (V.APPROVED, V.PUBLISHED, True),
    (V.PUBLISHED, V.SUPERSEDED, True),
    (V.PUBLISHED, V.REJECTED, False),  # rejecting what the store shows would strand the rollback
    (V.PUBLISHED, V.STALE, False),
    (V.REJECTED, V.APPROVED, False),
    (V.SUPERSEDED, V.APPROVED, True),  # an operator rolls forward to an older result
    (V.DRAFT, V.PUBLISHED, False),  # never published without a decision
    # operations
    (Op.PENDING, Op.RUNNING, True),
    (Op.RUNNING, Op.UNDONE, True),
    (Op.DONE, Op.RUNNING, False),
    (Op.UNDONE, Op.DONE, False),
    # jobs
    (J.QUEUED, J.RUNNING, True),
    (J.RUNNING, J.RETRYING, True),
    (J.RUNNING, J.QUEUED, True),  # its worker died: queued again by the reconciler
    (J.RETRYING, J.DONE, False),  # it must run again first
    (J.DONE, J.RUNNING, False),  # a finished job is queued again, never resumed behind our back
    (J.FAILED, J.QUEUED, True),
    (J.SUPERSEDED, J.QUEUED, True),
    # runs
    (R.RUNNING, R.DONE_WITH_FAILURES, True),
    (R.DONE, R.RUNNING, False),
    (R.CANCELLED, R.DONE, False),
    # webhooks
    (W.RECEIVED, W.DONE, True),
    (W.FAILED, W.DONE, True),  # the platform's retry or the reconciler acted on it
    (W.DONE, W.RECEIVED, False),
]


@pytest.mark.parametrize(("current", "new", "expected"), RULES, ids=lambda v: str(v))
def test_rule(current: enum.StrEnum, new: enum.StrEnum, expected: bool) -> None:
    assert allowed(current, new) is expected
    if expected:
        assert move(current.value, new) is new
    else:
        with pytest.raises(IllegalMove, match=f"from {current.value} to {new.value}"):
            move(current.value, new)


@pytest.mark.parametrize("machine", list(MACHINES), ids=lambda m: m.__name__)
def test_every_move_of_every_machine(machine: type[enum.StrEnum]) -> None:
    """Each pair of states: move() does exactly what the table says; staying put is always allowed."""
    table = MACHINES[machine]
    assert set(table) == set(machine)  # every state has a row
    for current, new in itertools.product(machine, machine):
        if current == new or new in table[current]:
            assert move(current, new) is new
        else:
            with pytest.raises(IllegalMove):
                move(current, new)


@pytest.mark.parametrize(
    ("machine", "start"),
    [(Im, Im.NEW), (V, V.DRAFT), (Op, Op.PENDING), (J, J.QUEUED), (R, R.RUNNING), (W, W.RECEIVED)],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_every_state_is_reachable(machine: type[enum.StrEnum], start: enum.StrEnum) -> None:
    table, seen, todo = MACHINES[machine], {start}, [start]
    while todo:
        for nxt in table[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(machine)


def test_final_and_live_sets() -> None:
    assert JOB_LIVE.isdisjoint(JOB_FINAL) and set(JobStatus) == JOB_LIVE | JOB_FINAL
    assert all(not MACHINES[RunStatus][s] for s in RUN_FINAL)  # an ended run stays ended
    assert all(MACHINES[JobStatus][s] == {JobStatus.QUEUED} for s in JOB_FINAL)


def test_set_state_on_a_row_and_unknown_states() -> None:
    row = SimpleNamespace(id=7, state="published")
    with pytest.raises(IllegalMove, match="namespace 7 cannot go from published to rejected"):
        set_state(row, VersionState.REJECTED)
    assert row.state == "published"  # unchanged
    assert set_state(row, VersionState.SUPERSEDED) and row.state == "superseded"
    with pytest.raises(IllegalMove, match="unknown state 'bogus'"):
        move("bogus", ImageStatus.NEW)
    assert not allowed(ImageStatus.NEW, VersionState.DRAFT)  # states of different things never mix


def test_sources_are_the_states_that_may_move_to_one() -> None:
    """What a conditional UPDATE in SQL moves from (the webhook intake's outcome marks)."""
    assert sources(W.DONE) == {W.RECEIVED, W.FAILED, W.DONE}
    assert sources(W.FAILED) == {W.RECEIVED, W.FAILED}  # a done delivery stays done
    assert sources(J.QUEUED) == set(JobStatus)  # any job may be queued again
