"""The pipeline against the photos helper's catalogue kinds (sandbox/photos.py): broken files are
refused with their reason, lifestyle scenes go to review, hard kinds never pass, plain kinds do."""

from __future__ import annotations

import pytest

from jobs.imaging import PipelineSettings, run_pipeline
from jobs.imaging.errors import BadImageError
from tests.unit import imaging_cases as cases

photos = pytest.importorskip("sandbox.seeds.photos")

pytestmark = pytest.mark.unit

SIZE = (480, 480)
REFUSAL_CODES = {
    "broken-truncated": "truncated",
    "broken-html": "not_an_image",
    "zero-byte": "zero_byte",
    "svg": "svg",
}


@pytest.mark.parametrize("kind", sorted(REFUSAL_CODES))
def test_broken_kinds_are_refused(kind: str) -> None:
    with pytest.raises(BadImageError) as info:
        run_pipeline(
            photos.render(kind, 0, SIZE).data,
            PipelineSettings(),
            cases.FixedCutter(photos.render("on-white").mask),
        )
    assert info.value.code == REFUSAL_CODES[kind]
