"""Makes the package importable from the source tree (scripts/test.sh runs pytest without
installing it) and locates the shared vectors and the C++ binaries."""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "src"))

VECTORS = REPO / "tests" / "vectors"


def bin_dir() -> Path:
    return Path(os.environ.get("OUROBOROS_BIN_DIR", str(REPO / "build" / "dev" / "bin")))


def find_binary(*names: str) -> Path:
    for name in names:
        path = bin_dir() / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    pytest.skip(f"none of {names} in {bin_dir()} (build the C++ tree or set OUROBOROS_BIN_DIR)")
    raise AssertionError  # unreachable; keeps type checkers quiet
