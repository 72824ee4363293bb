"""Pipeline settings: presets, overrides, JSON round trip, fingerprint, validation."""

from __future__ import annotations

import json

import pytest

from jobs.imaging import PRESETS, PipelineSettings, Thresholds
from jobs.imaging.errors import ConfigurationError

pytestmark = pytest.mark.unit


def test_presets_exist_with_their_rules() -> None:
    assert set(PRESETS) == {"clean-white", "transparent", "marketplace"}
    default = PipelineSettings.from_preset()
    assert default.preset == "clean-white" and default.background == "white" and default.model == "u2netp"
    transparent = PipelineSettings.from_preset("transparent")
    assert transparent.background == "transparent" and transparent.output_format == "png"
    market = PipelineSettings.from_preset("marketplace")
    assert market.background == "white" and market.min_size >= 1000 and market.fill_ratio >= 0.85
    assert market.thresholds.fill_min == (0.85, 0.85)
    assert market.background_rgba == (255, 255, 255, 255) and not market.shadow


def test_overrides_and_partial_thresholds() -> None:
    settings = PipelineSettings.from_preset(
        "marketplace", model="isnet-general-use", thresholds={"halo": [0.2, 0.5]}
    )
    assert settings.model == "isnet-general-use"
    assert settings.thresholds.halo == (0.2, 0.5)
    assert settings.thresholds.fill_min == (0.85, 0.85)  # the preset's other gates stay


def test_round_trip_is_json_safe_and_fingerprint_stable() -> None:
    settings = PipelineSettings.from_preset(
        "clean-white", background="#ffeecc", aspect="4:5", target_size=1200
    )
    data = json.loads(json.dumps(settings.to_dict()))
    again = PipelineSettings.from_dict(data)
    assert again == settings
    assert again.fingerprint() == settings.fingerprint()
    assert len(settings.fingerprint()) == 64
    assert PipelineSettings.from_preset("clean-white").fingerprint() != settings.fingerprint()
    assert settings.background_rgba == (255, 238, 204, 255)
    assert settings.aspect_ratio == pytest.approx(0.8)


@pytest.mark.parametrize(
    "overrides",
    [
        {"background": "blue"},
        {"output_format": "gif"},
        {"aspect": "square"},
        {"margin": 0.6},
        {"fill_ratio": 0.0},
        {"quality": 0},
        {"clean_input": "maybe"},
        {"target_size": 5},
        {"colour": "red"},
        {"thresholds": {"no_such_gate": [1, 2]}},
        {"thresholds": {"halo": "high"}},
    ],
)
def test_invalid_settings_are_configuration_errors(overrides: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError) as info:
        PipelineSettings.from_preset("clean-white", **overrides)
    assert info.value.hint


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="unknown pipeline preset") as info:
        PipelineSettings.from_preset("glossy")
    assert "marketplace" in (info.value.hint or "")


def test_gate_names_map_to_scores() -> None:
    gates = Thresholds().gates()
    assert Thresholds.score_of("mask_area_min") == "mask_area"
    assert Thresholds.score_of("mask_area_max") == "mask_area"
    assert Thresholds.score_of("halo") == "halo"
    assert all(len(limit) == 2 for limit in gates.values())
