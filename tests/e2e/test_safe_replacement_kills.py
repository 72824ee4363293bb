"""Issue 7, done-when 1: a worker SIGKILLed at every point of a replacement, against the sandbox
stores over HTTP, is resumed by the next worker without losing the original, without leaving the
product imageless, without a duplicate slot and without a second upload.

One shop per platform, one product per kill point: every point on Shopify; on WooCommerce the
points that leave a different store state.
Each point gets its own burst worker subprocess (a real ``connector worker`` with
``CONNECTOR_KILL_AT``) on a private queue, so all of them run at once; then ordinary burst
workers resume every operation they left behind (they queue the resumptions on start and take
over the product locks of the dead workers).  The invariants are read from the sandboxes' own
state, not from the connector's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sandbox.devstack import DevStack

from connector import actions
from connector.blobs import sha256
from connector.models import Image, ImageStatus, Operation, OperationState
from connector.operations import STEPS
from jobs.tasks import publish_version_job
from tests.e2e.safe_replacement_support import (
    ProductState,
    ShopifyView,
    StoreView,
    WooView,
    another_result,
    images_by_product,
    install_quietly,
    operations_of,
    private_queue,
    result_png,
    running_stack,
    served_sha,
)
from tests.helpers import approved_result

pytestmark = pytest.mark.e2e

SHOPIFY_SHOP, WOO_SITE = "kills.myshopify.com", "kills-woo"
#: each step before and after it runs, and the moment the upload call returned unrecorded
SHOPIFY_POINTS = [f"{step}:{when}" for step in STEPS for when in ("before", "after")] + ["upload:call"]
#: on WooCommerce, the points that leave a different store state (uploads are ready at once)
WOO_POINTS = [
    "upload:call",
    *(f"{step}:after" for step in ("upload", "attach", "move", "link_variants", "detach", "verify")),
]
#: points around the variant relinking: their products have variants linked to the replaced slot
LINK_POINTS = {"move:after", "link_variants:before", "link_variants:after", "detach:before", "detach:after"}
CASES = [("shopify", p) for p in SHOPIFY_POINTS] + [("woocommerce", p) for p in WOO_POINTS]


@dataclass
class Case:
    """One replacement killed at one point: what was there before, at the kill and after resuming."""

    platform: str
    point: str
    image_id: int
    product_id: str
    original_media: str
    position: int
    result: bytes
    version_id: int
    before: ProductState
    exit_code: int | None = None
    at_kill: ProductState | None = None
    steps_at_kill: list[tuple[str, str]] = field(default_factory=list)
    op_at_kill: Operation | None = None
    uploads_at_kill: int = 0

    @property
    def original_sha(self) -> str | None:
        return self.before.sha_of(self.original_media)


@dataclass
class Scenario:
    stack: DevStack
    store_ids: dict[str, int]
    views: dict[str, StoreView]
    cases: dict[tuple[str, str], Case]
    resume_exits: list[int]
    libraries: dict[str, dict[str, str | None]]


def _pick_cases(
    stack: DevStack, platform: str, store_id: int, view: StoreView, points: list[str]
) -> list[Case]:
    """One product per kill point, and in it a slot that varies (first, middle, last...).

    The points where variant links are moved get products whose slot has linked variants.
    """
    products = images_by_product(stack.services, store_id)
    linked = [imgs for imgs in products if any(img.variant_ids for img in imgs)]
    plain = [imgs for imgs in products if imgs not in linked]
    assert len(linked) >= len(LINK_POINTS & set(points)) and len(products) >= len(points), "seed more"
    cases = []
    for i, point in enumerate(points):
        if point in LINK_POINTS:
            image = next(img for img in linked.pop(0) if img.variant_ids)
        else:
            images = plain.pop(0)
            image = images[i % len(images)]
        with stack.services.session() as s:
            product_id = s.get(Image, image.id).product.platform_id  # type: ignore[union-attr]
        data = result_png(i + 1)
        cases.append(
            Case(
                platform=platform,
                point=point,
                image_id=image.id,
                product_id=product_id,
                original_media=image.platform_media_id,
                position=image.position,
                result=data,
                version_id=approved_result(stack.services, image.id, data),
                before=view.product(product_id),
            )
        )
    return cases


def _kill_all(stack: DevStack, cases: list[Case], logs: Path) -> None:
    """Run one burst worker per kill point, all at once, each on its own queue; wait for their deaths."""
    procs = []
    for i, case in enumerate(cases):
        private_queue(stack, f"kill-{i}").enqueue(
            publish_version_job, case.version_id, None, "e2e", job_id=f"publish-v{case.version_id}"
        )
        procs.append(
            stack.worker(
                burst=True,
                extra_env={"QUEUE_NAME": f"kill-{i}", "CONNECTOR_KILL_AT": case.point},
                log=logs / f"kill-{i}.log",
            )
        )
    for i, (case, proc) in enumerate(zip(cases, procs, strict=True)):
        case.exit_code = proc.wait(timeout=180)
        # A worker that started after another one died queued that one's resumption on its own
        # queue, behind its publish job, and died before running it.  In production all workers
        # share one queue and the next worker runs it; here the private queues are dropped and
        # the resuming workers queue every resumption again.
        private_queue(stack, f"kill-{i}").empty()


def _snapshot_at_kill(stack: DevStack, views: dict[str, StoreView], cases: list[Case]) -> None:
    for case in cases:
        view = views[case.platform]
        case.at_kill = view.product(case.product_id)
        ops = operations_of(stack.services, case.image_id, "replace")
        case.op_at_kill = ops[-1] if ops else None
        if case.op_at_kill is not None:
            case.uploads_at_kill = len(view.uploads(f"-ic{case.op_at_kill.id}."))
            with stack.services.session() as s:
                op = s.get(Operation, case.op_at_kill.id)
                assert op is not None
                case.steps_at_kill = [(step.name, step.state) for step in op.steps]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    var = tmp_path_factory.mktemp("kills")
    with running_stack(var) as stack:
        store_ids = {
            "shopify": install_quietly(stack, SHOPIFY_SHOP, seed=13, size=20),
            "woocommerce": install_quietly(stack, WOO_SITE, seed=13, size=20, platform="woocommerce"),
        }
        views: dict[str, StoreView] = {
            "shopify": ShopifyView(stack, SHOPIFY_SHOP),
            "woocommerce": WooView(stack, WOO_SITE),
        }
        cases = [
            *_pick_cases(stack, "shopify", store_ids["shopify"], views["shopify"], SHOPIFY_POINTS),
            *_pick_cases(stack, "woocommerce", store_ids["woocommerce"], views["woocommerce"], WOO_POINTS),
        ]
        _kill_all(stack, cases, var)
        _snapshot_at_kill(stack, views, cases)
        resumers = [stack.worker(burst=True, log=var / f"resume-{i}.log") for i in range(2)]
        resume_exits = [proc.wait(timeout=300) for proc in resumers]
        yield Scenario(
            stack,
            store_ids,
            views,
            {(c.platform, c.point): c for c in cases},
            resume_exits,
            {platform: view.library() for platform, view in views.items()},
        )


def _store_changed(case: Case) -> bool:
    """Whether anything on the store moved for this case (an upload, or what the product lists)."""
    assert case.at_kill is not None
    return case.uploads_at_kill > 0 or case.at_kill.ids != case.before.ids


@pytest.mark.parametrize(("platform", "point"), CASES)
def test_killed_replacement_resumes_with_the_invariants(
    scenario: Scenario, platform: str, point: str
) -> None:
    case, view = scenario.cases[(platform, point)], scenario.views[platform]
    stack = scenario.stack
    assert case.exit_code == -9, f"the worker was not killed at {point} (exit {case.exit_code})"

    # --- at the kill -------------------------------------------------------------------
    assert case.original_sha and stack.services.blobs.get(case.original_sha)  # backed up, verified
    assert case.op_at_kill is not None and case.at_kill is not None
    if _store_changed(case):
        assert ("backup", "done") in case.steps_at_kill, "the store changed before the backup step"
    assert case.at_kill.shown(), "the product shows no image at the kill"
    assert case.uploads_at_kill <= 1

    # --- after the resuming workers ----------------------------------------------------
    assert scenario.resume_exits == [0, 0]
    [op] = operations_of(stack.services, case.image_id, "replace")
    assert op.id == case.op_at_kill.id
    assert op.state == OperationState.DONE.value, op.error
    assert op.uploads == 1 and len(view.uploads(f"-ic{op.id}.")) == 1, "not exactly one upload"

    after = view.product(case.product_id)
    ours = {case.original_media: op.new_media_id}
    assert after.ids == [ours.get(m, m) for m in case.before.ids], "order, a duplicate or a leftover"
    slot = after.media[case.position]
    assert slot.ready and served_sha(slot.url) == sha256(case.result)
    if point in LINK_POINTS:
        assert case.original_media in case.before.variants.values()
    assert after.variants == {v: ours.get(m, m) if m else m for v, m in case.before.variants.items()}
    assert scenario.libraries[platform].get(case.original_media) == case.original_sha  # kept in the library
    with stack.services.session() as s:
        image = s.get(Image, case.image_id)
        assert image is not None and image.status == ImageStatus.PUBLISHED.value
        recorded = s.get(Operation, op.id)
        assert recorded is not None
        assert {st.name for st in recorded.steps if st.state == "done"} >= set(STEPS) - {"verify"}
        assert not [st for st in recorded.steps if st.state == "failed"]


def test_no_product_ever_showed_zero_images(scenario: Scenario) -> None:
    """Every products/update body Shopify sent (one per change, built when the change was made)
    lists at least one image.  (WooCommerce builds its coalesced bodies when it sends them.)"""
    for case in scenario.cases.values():
        counts = scenario.views[case.platform].image_counts(case.product_id)
        if counts is None:
            continue
        assert counts, f"{case.point}: the replacement changed nothing on the product"
        assert min(counts) >= 1, f"{case.point}: the product showed no image at one moment"


def test_killed_rollback_resumes_to_the_byte_identical_original(scenario: Scenario) -> None:
    """A rollback killed after relinking the variants (the original and our result both on the
    product) is finished by the next worker: the original's own media back in its slot."""
    stack, view = scenario.stack, scenario.views["shopify"]
    case = scenario.cases[("shopify", "link_variants:after")]
    uploads_before = len(view.uploads())
    _run, queued = actions.rollback(
        stack.services, store_id=scenario.store_ids["shopify"], image_id=case.image_id
    )
    assert queued == 1

    assert stack.run_burst(extra_env={"CONNECTOR_KILL_AT": "link_variants:after"}) == -9
    at_kill = view.product(case.product_id)
    assert at_kill.shown() and case.original_media in at_kill.ids
    [rollback] = operations_of(stack.services, case.image_id, "rollback")
    assert rollback.state == OperationState.RUNNING.value

    assert stack.run_burst() == 0
    [rollback] = operations_of(stack.services, case.image_id, "rollback")
    assert rollback.state == OperationState.DONE.value, rollback.error
    after = view.product(case.product_id)
    assert after.ids == case.before.ids and after.variants == case.before.variants
    assert served_sha(after.media[case.position].url) == case.original_sha
    assert rollback.uploads == 0 and len(view.uploads()) == uploads_before  # the original re-attached
    with stack.services.session() as s:
        assert s.get(Image, case.image_id).status == ImageStatus.ROLLED_BACK.value  # type: ignore[union-attr]


def test_rollback_while_a_replacement_is_unfinished_finishes_it_then_rolls_back(
    scenario: Scenario,
) -> None:
    """A second result's publication is killed half-way; a rollback requested before any worker
    resumed it finishes that replacement first, then puts the original back."""
    stack, view = scenario.stack, scenario.views["shopify"]
    case = scenario.cases[("shopify", "attach:before")]
    actions.approve(stack.services, another_result(stack.services, case.image_id, result_png(100)))
    assert stack.run_burst(extra_env={"CONNECTOR_KILL_AT": "attach:after"}) == -9
    _first, second = operations_of(stack.services, case.image_id, "replace")
    assert second.state == OperationState.RUNNING.value

    _run, queued = actions.rollback(
        stack.services, store_id=scenario.store_ids["shopify"], image_id=case.image_id
    )
    assert queued == 1
    assert stack.run_burst() == 0

    second = operations_of(stack.services, case.image_id, "replace")[1]
    [rollback] = operations_of(stack.services, case.image_id, "rollback")
    assert (second.state, rollback.state) == (OperationState.DONE.value, OperationState.DONE.value)
    assert second.uploads == 1 and len(view.uploads(f"-ic{second.id}.")) == 1
    after = view.product(case.product_id)
    assert after.ids == case.before.ids
    assert served_sha(after.media[case.position].url) == case.original_sha
    with stack.services.session() as s:
        assert s.get(Image, case.image_id).status == ImageStatus.ROLLED_BACK.value  # type: ignore[union-attr]
