"""The wheel built from pyproject.toml, as a deployment builds it, holds the product and nothing else."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.import_graph import ROOT

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

SKIP = shutil.ignore_patterns(
    ".venv", "var", ".git", "*.egg-info", "build", "dist", "__pycache__", ".*_cache"
)


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """File names inside the wheel built from a copy of the tree (the tree itself stays untouched)."""
    source = tmp_path_factory.mktemp("tree") / "project"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
    ]
    done = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("image_connector-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_ships_the_product(wheel_names: list[str]) -> None:
    tops = {name.split("/", 1)[0] for name in wheel_names if "/" in name and ".dist-info" not in name}
    assert tops == {"connector", "adapters", "jobs"}
    for needed in (
        "connector/migrations/env.py",
        "connector/web/templates/base.html",
        "connector/web/templates/embedded/app.html",
        "connector/web/static/embedded/embedded.js",
        "connector/templates/pilot_report.html",
        "jobs/imaging/templates",
        "adapters/shopify/documents.py",
    ):
        assert any(name.startswith(needed) for name in wheel_names), needed


def test_the_wheel_holds_no_emulator_fake_or_dev_stack(wheel_names: list[str]) -> None:
    assert [n for n in wheel_names if n.startswith(("sandbox/", "devkit/", "tests/", "bench/"))] == []
    assert [n for n in wheel_names if "fake" in n or "devstack" in n or "demo" in n] == []
