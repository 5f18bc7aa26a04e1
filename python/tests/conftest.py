"""Makes the package importable from the source tree (scripts/test.sh runs pytest without
installing it) and locates the shared vectors and the C++ binaries."""

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Dict, Iterator, List

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


SRC = HERE.parent / "src"


def segment_name(tag: str) -> str:
    return f"ouroboros-pytest-{tag}-{os.getpid()}"


class Writer:
    """ouroboros-test-writer on a named segment: created at once, writes after go()."""

    def __init__(self, name: str, *args: str) -> None:
        exe = find_binary("ouroboros-test-writer")
        self.name = name
        self.proc = subprocess.Popen(
            [str(exe), name, "--wait-stdin", "--keep", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("ready"), line

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def written(self, timeout: float = 60) -> int:
        out, _ = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0
        return int(out.split()[-1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def cleanup() -> Iterator[List[str]]:
    """Names to unlink from /dev/shm after the test (files, FIFOs, symlinks, directories)."""
    names: List[str] = []
    yield names
    for n in names:
        path = "/dev/shm/" + n
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass


def tail_command(*args: str) -> List[str]:
    return [sys.executable, "-m", "ouroboros_reader", *args]


def tail_env() -> Dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def run_tail(*args: str, timeout: float = 20) -> "subprocess.CompletedProcess[str]":
    """python -m ouroboros_reader ARGS to completion (TimeoutExpired if it hangs)."""
    return subprocess.run(
        tail_command(*args), capture_output=True, text=True, env=tail_env(), timeout=timeout
    )


def start_tail(*args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        tail_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=tail_env(),
    )


class Lines:
    """Lines of a child's stream, read by a thread, so a test waits with a timeout instead of
    hanging on readline() when the child prints nothing."""

    def __init__(self, stream: "IO[str]") -> None:
        self._queue: "queue.Queue[str]" = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: "IO[str]") -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put("")

    def next(self, timeout: float = 15) -> str:
        """The next line without its newline; AssertionError after `timeout` or at the end."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s") from None
        assert line, "the stream ended"
        return line.rstrip("\n")

    def rest(self, timeout: float = 15) -> List[str]:
        """Every remaining line until the stream ends."""
        lines: List[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"the stream did not end within {timeout} s") from None
            if not line:
                return lines
            lines.append(line.rstrip("\n"))
