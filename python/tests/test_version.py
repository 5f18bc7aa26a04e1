"""The Python package states the project version of the top-level CMakeLists.txt
(project(ouroboros VERSION x.y.z)), in the module, in `--version` and in the built metadata."""

import re
import subprocess
import sys

from conftest import REPO, SRC

import ouroboros_reader


def cmake_version() -> str:
    text = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r"project\(\s*ouroboros\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)", text)
    assert match, "no project(ouroboros VERSION x.y.z) in CMakeLists.txt"
    return match.group(1)


def test_module_version_is_the_cmake_version():
    assert ouroboros_reader.__version__ == cmake_version()


def test_version_option_prints_it_and_the_layout_versions():
    done = subprocess.run([sys.executable, "-m", "ouroboros_reader", "--version"],
                          cwd=SRC, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ouroboros_reader {cmake_version()} "), done.stdout
    assert "ring format version 1" in done.stdout
    assert "record encoding version 1" in done.stdout


def test_pyproject_takes_the_version_from_the_module():
    text = (REPO / "python" / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dynamic = \["version"\]', text, re.M), "a second, static version"
    assert 'version = { attr = "ouroboros_reader.__version__" }' in text
