"""Cost and return of processed images: compute priced per hour, next to a paid service and a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.costs import estimate
from connector.errors import ConfigurationError
from connector.settings import Settings
from tests.conftest import base_env

pytestmark = pytest.mark.unit


def test_costs_of_processed_and_published_images(tmp_path: Path) -> None:
    settings = Settings.from_env(
        base_env(
            tmp_path,
            COMPUTE_PRICE_PER_HOUR="3.6",
            COMPUTE_UNIT="gpu",
            PAID_SERVICE_PRICE_PER_IMAGE="0.25",
            RETOUCH_MINUTES_PER_PHOTO="6",
            RETOUCH_HOURLY_RATE="30",
            COST_CURRENCY="EUR",
        )
    )
    report = estimate(settings, processed=4, published=3, seconds=10.0).to_dict()
    assert report["compute_unit"] == "GPU" and report["currency"] == "EUR"
    assert report["compute_seconds_per_image"] == 2.5
    assert report["compute_cost"] == pytest.approx(0.01)  # 10 s at 3.60 an hour
    assert report["compute_cost_per_image"] == pytest.approx(0.0025)
    assert report["paid_service_cost"] == pytest.approx(1.0)  # every processed image
    assert report["retouch_minutes"] == 18 and report["retouch_cost"] == pytest.approx(9.0)  # the published
    assert report["saved_vs_paid_service"] == pytest.approx(0.99)
    assert report["saved_vs_retouching"] == pytest.approx(8.99)


def test_nothing_processed_costs_nothing(tmp_path: Path) -> None:
    report = estimate(Settings.from_env(base_env(tmp_path)), 0, 0, 0.0)
    assert report.compute_seconds_per_image == report.compute_cost_per_image == report.paid_service_cost == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("COMPUTE_PRICE_PER_HOUR", "cheap"), ("COMPUTE_UNIT", "TPU"), ("RETOUCH_MINUTES_PER_PHOTO", "")],
)
def test_bad_cost_settings_are_refused_with_a_hint(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env(base_env(tmp_path, **{name: value}))
    assert err.value.hint
