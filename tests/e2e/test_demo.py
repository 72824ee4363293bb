"""`make demo`'s command end to end in a subprocess on a temp folder: a byte-identical rollback, twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import base_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_demo_reports_a_byte_identical_rollback_and_runs_twice(tmp_path: Path) -> None:
    env = {**os.environ, **base_env(tmp_path), "CONNECTOR_ENV_FILE": str(tmp_path / "none.env")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    outputs = []
    for _ in range(2):  # idempotent: the second run resets its shop
        done = subprocess.run(
            [sys.executable, "-m", "connector", "demo", "--size", "6"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        outputs.append(done.stdout)
    first, second = outputs
    assert "products synced:        6 (6 images)" in first
    assert "byte-identical" in first and "DIFFERENT" not in first
    assert "images reprocessed because of them: 0" in first
    assert "reset the demo shop left by a previous run" in second and "byte-identical" in second
