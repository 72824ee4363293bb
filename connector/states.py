"""The states of images, versions, operations, jobs, runs and webhooks, and the moves between them.

A pure domain module: enums and tables of allowed moves, nothing of the database or the queue.
Every writer changes a state through :func:`move` (or :func:`set_state` on a row), so an illegal
move raises :class:`IllegalMove` saying what was tried instead of silently corrupting the history.
Moving to the state a thing is already in is always allowed (work is idempotent).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from connector.errors import ConflictError

S = TypeVar("S", bound=enum.StrEnum)


class ImageStatus(enum.StrEnum):
    """Where one image slot stands in the workflow."""

    NEW = "new"
    QUEUED = "queued"
    PROCESSING = "processing"
    REVIEW = "review"  # a result waits for approval
    APPROVED = "approved"  # approved, publish queued
    PUBLISHED = "published"  # the store shows our result
    SKIPPED = "skipped"  # nothing to do (already clean)
    FAILED = "failed"  # refused or QA failed; the original stays
    ROLLED_BACK = "rolled_back"  # the store shows the original again
    GONE = "gone"  # deleted on the store


class VersionState(enum.StrEnum):
    """Where one version of an image's bytes stands."""

    DRAFT = "draft"  # made, not on the store
    REVIEW = "review"
    APPROVED = "approved"
    PUBLISHED = "published"
    REJECTED = "rejected"
    STALE = "stale"  # the merchant changed the image after this was made
    SUPERSEDED = "superseded"  # replaced by a later version or decision


class OperationState(enum.StrEnum):
    """A recorded change on the store."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


class JobStatus(enum.StrEnum):
    """A queued unit of work as the database records it (the queue may lose it; this may not)."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # a transient error; queued again at ``retry_at``
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a later decision made it moot; it changed nothing
    CANCELLED = "cancelled"


class RunStatus(enum.StrEnum):
    """A batch of work an operator or the service started."""

    RUNNING = "running"
    DONE = "done"
    DONE_WITH_FAILURES = "done_with_failures"
    CANCELLED = "cancelled"


class WebhookState(enum.StrEnum):
    """A verified delivery: recorded first, done only after it was acted on."""

    RECEIVED = "received"
    DONE = "done"
    FAILED = "failed"  # acting failed; the platform's retry or the reconciler acts again


_I, _V, _O, _J, _R, _W = ImageStatus, VersionState, OperationState, JobStatus, RunStatus, WebhookState

#: The store's truth after a verified operation, or the product's deletion, can reach a slot from
#: any state but GONE; processing decisions start from a queued or processing slot.
_DECIDED = {_I.REVIEW, _I.APPROVED, _I.SKIPPED, _I.FAILED, _I.NEW}
_ON_STORE = {_I.PUBLISHED, _I.ROLLED_BACK, _I.GONE}
_AFTER_WORK = {_I.QUEUED, _I.NEW, _I.APPROVED, _I.FAILED, *_ON_STORE}

IMAGE_MOVES: Mapping[ImageStatus, frozenset[ImageStatus]] = {
    _I.NEW: frozenset({_I.QUEUED, _I.PROCESSING, *_DECIDED, *_ON_STORE}),
    _I.QUEUED: frozenset({_I.PROCESSING, *_DECIDED, *_ON_STORE}),
    _I.PROCESSING: frozenset({_I.QUEUED, *_DECIDED, *_ON_STORE}),
    _I.REVIEW: frozenset({_I.QUEUED, _I.PROCESSING, *_DECIDED, *_ON_STORE}),
    _I.APPROVED: frozenset({_I.QUEUED, _I.PROCESSING, *_DECIDED, *_ON_STORE}),
    _I.PUBLISHED: frozenset({_I.QUEUED, _I.PROCESSING, _I.APPROVED, _I.REVIEW, *_AFTER_WORK}),
    _I.SKIPPED: frozenset({_I.QUEUED, _I.PROCESSING, _I.NEW, *_ON_STORE}),
    _I.FAILED: frozenset({_I.QUEUED, _I.PROCESSING, _I.NEW, _I.APPROVED, _I.REVIEW, *_ON_STORE}),
    _I.ROLLED_BACK: frozenset({_I.QUEUED, _I.PROCESSING, _I.NEW, _I.APPROVED, _I.REVIEW, *_ON_STORE}),
    _I.GONE: frozenset({_I.NEW}),  # shown again on the store: a new image to us
}

VERSION_MOVES: Mapping[VersionState, frozenset[VersionState]] = {
    _V.DRAFT: frozenset({_V.REVIEW, _V.APPROVED, _V.REJECTED, _V.STALE, _V.SUPERSEDED}),
    _V.REVIEW: frozenset({_V.DRAFT, _V.APPROVED, _V.REJECTED, _V.STALE, _V.SUPERSEDED}),
    _V.APPROVED: frozenset({_V.REVIEW, _V.PUBLISHED, _V.REJECTED, _V.STALE, _V.SUPERSEDED}),
    _V.PUBLISHED: frozenset({_V.SUPERSEDED}),  # never rejected: the store shows it; roll it back
    _V.REJECTED: frozenset(),
    _V.STALE: frozenset({_V.REVIEW, _V.APPROVED, _V.REJECTED}),
    _V.SUPERSEDED: frozenset({_V.REVIEW, _V.APPROVED, _V.PUBLISHED, _V.REJECTED}),
}

OPERATION_MOVES: Mapping[OperationState, frozenset[OperationState]] = {
    _O.PENDING: frozenset({_O.RUNNING, _O.DONE, _O.FAILED, _O.UNDONE}),
    _O.RUNNING: frozenset({_O.DONE, _O.FAILED, _O.UNDONE}),
    _O.DONE: frozenset(),
    _O.FAILED: frozenset(),
    _O.UNDONE: frozenset(),
}

_J_END = {_J.DONE, _J.FAILED, _J.SUPERSEDED, _J.CANCELLED}
JOB_MOVES: Mapping[JobStatus, frozenset[JobStatus]] = {
    _J.QUEUED: frozenset({_J.RUNNING, *_J_END}),
    _J.RUNNING: frozenset({_J.QUEUED, _J.RETRYING, *_J_END}),  # QUEUED: requeued after a dead worker
    _J.RETRYING: frozenset({_J.QUEUED, _J.RUNNING, _J.FAILED, _J.CANCELLED}),
    # the same job id is queued again by a later request (one live job per image, say)
    _J.DONE: frozenset({_J.QUEUED}),
    _J.FAILED: frozenset({_J.QUEUED}),
    _J.SUPERSEDED: frozenset({_J.QUEUED}),
    _J.CANCELLED: frozenset({_J.QUEUED}),
}

RUN_MOVES: Mapping[RunStatus, frozenset[RunStatus]] = {
    _R.RUNNING: frozenset({_R.DONE, _R.DONE_WITH_FAILURES, _R.CANCELLED}),
    _R.DONE: frozenset(),
    _R.DONE_WITH_FAILURES: frozenset(),
    _R.CANCELLED: frozenset(),
}

WEBHOOK_MOVES: Mapping[WebhookState, frozenset[WebhookState]] = {
    _W.RECEIVED: frozenset({_W.DONE, _W.FAILED}),
    _W.FAILED: frozenset({_W.DONE}),
    _W.DONE: frozenset(),
}

MACHINES: Mapping[type[enum.StrEnum], Mapping[Any, frozenset[Any]]] = {
    ImageStatus: IMAGE_MOVES,
    VersionState: VERSION_MOVES,
    OperationState: OPERATION_MOVES,
    JobStatus: JOB_MOVES,
    RunStatus: RUN_MOVES,
    WebhookState: WEBHOOK_MOVES,
}

#: job states no worker will change any more
JOB_FINAL = frozenset(_J_END)
#: job states that still need a worker
JOB_LIVE = frozenset({_J.QUEUED, _J.RUNNING, _J.RETRYING})
#: run states that are over
RUN_FINAL = frozenset({_R.DONE, _R.DONE_WITH_FAILURES, _R.CANCELLED})


class IllegalMove(ConflictError):
    """A state change the workflow does not allow (a bug, or a request that makes no sense now)."""

    code = "illegal_move"


def allowed(current: enum.StrEnum, new: enum.StrEnum) -> bool:
    """Whether ``current`` may move to ``new`` (same enum; staying put is always allowed)."""
    if type(current) is not type(new):
        return False
    return current == new or new in MACHINES[type(current)][current]


def sources(new: S) -> frozenset[S]:
    """The states that may move to ``new`` (itself included), for a conditional update in SQL."""
    return frozenset(state for state in type(new) if allowed(state, new))


def move(current: str | S, new: S, what: str = "") -> S:
    """The new state, or :class:`IllegalMove` when ``current`` may not move to it."""
    machine = type(new)
    try:
        now = machine(current)
    except ValueError:
        raise IllegalMove(f"{what or machine.__name__} has unknown state {current!r}") from None
    if not allowed(now, new):
        raise IllegalMove(
            f"{what or machine.__name__} cannot go from {now.value} to {new.value}",
            hint="reload and look at its current state; see `connector history`",
        )
    return new


def set_state(row: Any, new: S, attr: str = "state") -> bool:
    """Move a row's ``attr`` (``status`` or ``state``) to ``new`` through the table; True if it changed."""
    current = getattr(row, attr)
    what = f"{type(row).__name__.lower()} {getattr(row, 'id', '') or ''}".strip()
    move(current if current is not None else new, new, what)
    setattr(row, attr, new.value)
    return current != new.value
