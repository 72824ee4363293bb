"""QA strictness moves each gate's pass line within its band, never the line to "fails"."""

from __future__ import annotations

import pytest

from connector.imaging import preset_settings
from connector.store_settings import strictness_thresholds

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("level", "tighter"), [("strict", True), ("lenient", False)])
def test_every_gate_moves_its_pass_line_the_right_way_and_keeps_its_review_line(
    level: str, tighter: bool
) -> None:
    standard = preset_settings("clean-white").thresholds
    shifted = strictness_thresholds("clean-white", level)
    assert shifted, "a level other than standard changes some gates"
    for gate in standard.typed():
        if gate.name not in shifted:
            continue
        pass_at, review_at = shifted[gate.name]
        assert review_at == gate.review_at, gate.name
        holds_more = pass_at >= gate.pass_at if gate.better == "higher" else pass_at <= gate.pass_at
        assert holds_more == tighter or pass_at == gate.pass_at, (gate.name, gate.pass_at, pass_at)
        assert abs(pass_at) < 1e5, f"{gate.name}: a detector that only holds keeps a finite pass line"


def test_standard_changes_nothing() -> None:
    assert strictness_thresholds("clean-white", "standard") == {}
