"""sandbox.common pieces that need no network: fault configuration and the fault dice."""

from __future__ import annotations

import pytest
from sandbox.common.faults import FaultConfig, FaultInjector
from sandbox.common.outbox import Outbox

pytestmark = pytest.mark.unit


def test_fault_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        FaultConfig(error_rate=1.5)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultConfig(kinds=("500", "teapot"))
    with pytest.raises(ValueError, match="at least one"):
        FaultConfig(error_rate=0.5, kinds=())


def test_injector_is_deterministic_with_a_seed_and_counts_what_it_injected() -> None:
    a = FaultInjector(FaultConfig(error_rate=0.5, seed=7))
    b = FaultInjector(FaultConfig(error_rate=0.5, seed=7))
    rolls_a = [a.choose() for _ in range(200)]
    assert rolls_a == [b.choose() for _ in range(200)]
    assert 50 < sum(r is not None for r in rolls_a) < 150
    assert set(a.injected) == {"500", "429", "reset", "timeout"}
    assert sum(a.injected.values()) == sum(r is not None for r in rolls_a)


def test_injector_update_turns_faults_off_and_keeps_other_fields() -> None:
    inj = FaultInjector(FaultConfig(error_rate=1.0, kinds=("429",), retry_after=3))
    assert inj.choose() == "429"
    cfg = inj.update(error_rate=0.0)
    assert cfg.retry_after == 3 and cfg.kinds == ("429",)
    assert all(inj.choose() is None for _ in range(50))
    assert inj.update(kinds=["503"]).kinds == ("503",)


def test_outbox_coalesces_pending_deliveries_and_builds_body_at_send_time() -> None:
    box = Outbox(delay=60)
    state = {"title": "first"}
    first = box.post("http://127.0.0.1:9/hook", lambda: state["title"].encode(), {}, coalesce_key="p1")
    again = box.post("http://127.0.0.1:9/hook", lambda: state["title"].encode(), {}, coalesce_key="p1")
    other = box.post("http://127.0.0.1:9/hook", b"x", {}, coalesce_key="p2")
    assert again.id == first.id and again.coalesced == 1
    assert other.id != first.id
    assert [d.state for d in box.deliveries] == ["pending", "pending"]
    assert box.pending() == 2
