"""Learning from people on a real database: approve/reject kept with scores, `connector calibrate`
proposing thresholds from them (applied only when told), and the store page's QA outcomes by day."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sandbox.fake_platform import FakeApp
from sqlalchemy import select

from connector import actions
from connector.cli import main
from connector.models import Image, ImageVersion, QaDecision, Store, VersionState
from connector.services import Services
from connector.stores import save_install
from connector.sync import sync_store
from connector.web import create_app
from tests.helpers import CLEAN_SCORES, add_result, png

pytestmark = pytest.mark.integration


@pytest.fixture
def decided(sqlite_services: Services) -> tuple[int, list[int]]:
    """A store with three results in review: two clean ones approved, one with a halo rejected."""
    app = sqlite_services.platforms["fake"]
    assert isinstance(app, FakeApp)
    app.store("learn.fake").add_product("mug", [png((200, 0, 0)), png((0, 200, 0)), png((0, 0, 200))])
    store_id = save_install(sqlite_services, "fake", "learn.fake", {"token": "tok-learn.fake"})
    sync_store(sqlite_services, store_id)
    halos = (0.01, 0.02, 0.09)  # the third one's halo passes the gate, but a person saw the fringe
    versions = []
    with sqlite_services.session() as s:
        for image_id, halo in zip(s.scalars(select(Image.id).order_by(Image.id)), halos, strict=True):
            version_id = add_result(s, image_id, png((255, 255, 255)), "0" * 64)
            version = s.get(ImageVersion, version_id)
            assert version is not None
            version.state, version.scores = VersionState.REVIEW.value, {**CLEAN_SCORES, "halo": halo}
            versions.append(version_id)
    actions.approve(sqlite_services, versions[0], actor="ann")
    actions.approve(sqlite_services, versions[1], actor="ann")
    actions.reject(sqlite_services, versions[2], actor="bob")
    return store_id, versions


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_decision_is_kept_with_its_scores(
    sqlite_services: Services, decided: tuple[int, list[int]]
) -> None:
    store_id, versions = decided
    with sqlite_services.session() as s:
        rows = list(s.scalars(select(QaDecision).order_by(QaDecision.id)))
    assert [(r.version_id, r.decision, r.actor) for r in rows] == [
        (versions[0], "approve", "ann"),
        (versions[1], "approve", "ann"),
        (versions[2], "reject", "bob"),
    ]
    assert all(r.store_id == store_id for r in rows) and rows[2].scores["halo"] == 0.09


def test_calibrate_proposes_and_applies_only_when_told(
    sqlite_services: Services, decided: tuple[int, list[int]]
) -> None:
    store_id, versions = decided
    shown = _invoke("calibrate", "learn.fake")
    assert "3 decisions: 2 approved, 1 rejected" in shown
    assert "now: approved published 2/2, rejected published 1/1" in shown
    assert "proposed: approved published 2/2, rejected published 0/1" in shown
    assert f"version {versions[2]} (rejected): published -> held" in shown and "not applied" in shown
    with sqlite_services.session() as s:
        store = s.get(Store, store_id)
        assert store is not None and "thresholds" not in store.settings.get("pipeline", {})
    assert "applied" in _invoke("calibrate", "learn.fake", "--apply")
    with sqlite_services.session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        pass_at, _review_at = store.settings["pipeline"]["thresholds"]["halo"]
    assert 0.02 <= pass_at < 0.09  # between the approved fringe and the rejected one
    assert "rejected published 0/1" in _invoke("calibrate", "learn.fake").split("proposed")[0]


def test_calibrate_without_decisions_says_what_to_do(sqlite_services: Services) -> None:
    save_install(sqlite_services, "fake", "new.fake", {"token": "tok-new.fake"})
    result = CliRunner().invoke(main, ["calibrate", "new.fake"])
    assert result.exit_code != 0 and "approve or reject results in review first" in result.output


def test_store_page_shows_qa_outcomes_by_day_and_the_model_licence(
    sqlite_services: Services, decided: tuple[int, list[int]]
) -> None:
    store_id, _versions = decided
    page = create_app(sqlite_services).test_client().get(f"/stores/{store_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "QA outcomes by day" in html and "Apache-2.0" in html
    row = html.split('id="qa-history"')[1].split("</tr>")[1]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert cells[1:] == ["3", "0", "0", "0", "2", "1"]  # 3 passed by the gates; 2 approved, 1 rejected
