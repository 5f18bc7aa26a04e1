"""The three tails give the same output on the same segments, byte for byte.

docs/tools.md ("The tail contract") makes `ouroboros-cli tail` the reference for every tail. This
runs `ouroboros-cli tail`, `python -m ouroboros_reader` and `ouroboros-go-tail` (built with
`go build` into a temporary directory) on the same segments in /dev/shm and compares exit
codes, stdout and stderr. Two things are normalized: the program name that starts warning and
error lines (each tail names itself), and the age in "last heartbeat S.S s ago" (it moves on
between runs). Skipped when the C++ binaries (OUROBOROS_BIN_DIR) or the Go toolchain are missing.
"""

import difflib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence

import pytest

from conftest import REPO, SRC, VECTORS, Writer, find_binary, segment_name
from crafted import COMMITTED_ENTRY, segment

# OUROBOROS_PARITY_TAILS=cli,py compares only those (the CLI is always the reference).
TAILS = tuple(["cli"] + [t for t in os.environ.get("OUROBOROS_PARITY_TAILS", "py,go").split(",")
                         if t in ("py", "go")])
PROGRAM = {"cli": "ouroboros-cli", "py": "ouroboros_reader", "go": "ouroboros-go-tail"}
# Local time in the text format: a zone with a half-hour offset shows any mistake in it.
ZONE = "America/St_Johns" if Path("/usr/share/zoneinfo/America/St_Johns").exists() else "UTC"


class Result(NamedTuple):
    code: int
    out: bytes
    err: bytes


class Tails:
    def __init__(self, cli: Path, go: Path) -> None:
        self.cli = cli
        self.go = go
        self.env = {**os.environ, "PYTHONPATH": str(SRC), "TZ": ZONE}
        self.env.pop("NO_COLOR", None)

    def command(self, which: str, name: str, follow: bool = False, json: bool = False,
                utc: bool = False, seq: bool = False, color: Optional[str] = None,
                exit_on_close: bool = False, max_entries: Optional[int] = None,
                start: str = "oldest") -> List[str]:
        """The same request in each tail's syntax (their option names differ; the CLI does not
        follow by default, the Python and Go tails do)."""
        if which == "cli":
            args = [str(self.cli), "tail", name, "--from", start]
            args += ["--follow"] if follow else []
        elif which == "py":
            args = [sys.executable, "-m", "ouroboros_reader", name, "--start", start]
            args += [] if follow else ["--no-follow"]
        else:
            args = [str(self.go), "-start", start]
            args += [] if follow else ["-no-follow"]
        dash = "-" if which == "go" else "--"
        args += [dash + "json"] if json else []
        args += [dash + "utc"] if utc else []
        args += [dash + "seq"] if seq else []
        args += [dash + "color", color] if color else []
        args += [dash + "exit-on-close"] if exit_on_close else []
        args += [dash + "max", str(max_entries)] if max_entries is not None else []
        if which == "go":
            args.append(name)  # the flag package stops at the first argument that is no flag
        return args

    def start(self, which: str, name: str, stderr: object = subprocess.PIPE,
              **options: object) -> "subprocess.Popen[bytes]":
        return subprocess.Popen(self.command(which, name, **options),  # type: ignore[arg-type]
                                stdout=subprocess.PIPE, stderr=stderr, env=self.env)

    def run(self, name: str, **options: object) -> Dict[str, Result]:
        """The three tails to their end, side by side."""
        return self.run_many([(name, options)])[0]

    def run_many(self, runs: Sequence["tuple[str, Dict[str, object]]"]) -> List[Dict[str, Result]]:
        """Several runs of the three tails at once (each run: a name and its options)."""
        procs = [{which: self.start(which, name, **options) for which in TAILS}
                 for name, options in runs]
        results: List[Dict[str, Result]] = []
        for (name, options), started in zip(runs, procs):
            results.append({})
            for which, proc in started.items():
                try:
                    out, err = proc.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, err = proc.communicate()
                    pytest.fail(f"{which} tail {options} did not end: "
                                f"{out[-500:]!r} {err[-500:]!r}")
                results[-1][which] = Result(proc.returncode, out, err)
        return results


@pytest.fixture(scope="module")
def tails(tmp_path_factory: pytest.TempPathFactory) -> Tails:
    cli = find_binary("ouroboros-cli")
    find_binary("ouroboros-test-writer")
    go = shutil.which("go")
    if "go" not in TAILS:
        return Tails(cli, Path("/nonexistent"))
    if go is None:
        pytest.skip("no Go toolchain to build ouroboros-go-tail")
    binary = tmp_path_factory.mktemp("go-tail") / "ouroboros-go-tail"
    built = subprocess.run([go, "build", "-o", str(binary), "./cmd/ouroboros-go-tail"],
                           cwd=REPO / "go", capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return Tails(cli, binary)


HEARTBEAT = re.compile(rb"last heartbeat [0-9]+\.[0-9] s ago")


def normalized(which: str, result: Result) -> Result:
    def norm(data: bytes) -> bytes:
        data = HEARTBEAT.sub(b"last heartbeat S.S s ago", data)
        prefix = re.escape(PROGRAM[which].encode()) + rb": "
        return re.sub(rb"(?m)^" + prefix, b"PROGRAM: ", data)

    return Result(result.code, norm(result.out), norm(result.err))


def assert_same(results: Dict[str, Result], what: str = "") -> None:
    """Every tail's output equals the CLI's: exit code, stdout, stderr (normalized)."""
    reference = normalized("cli", results["cli"])
    problems = []
    for which in TAILS[1:]:
        got = normalized(which, results[which])
        if got == reference:
            continue
        report = [f"{which} differs from ouroboros-cli {what}: "
                  f"exit {got.code}, cli {reference.code}"]
        for stream in ("out", "err"):
            want_text = getattr(reference, stream).decode("utf-8", "backslashreplace")
            got_text = getattr(got, stream).decode("utf-8", "backslashreplace")
            if want_text != got_text:
                diff = difflib.unified_diff(want_text.splitlines(), got_text.splitlines(),
                                            "cli", which, lineterm="", n=1)
                report += [f"  std{stream}:"] + ["    " + repr(l)[1:-1] for l in list(diff)[:40]]
        problems.append("\n".join(report))
    assert not problems, "\n".join(problems)


@pytest.fixture
def shm(cleanup: List[str]) -> Callable[[str], str]:
    """A fresh segment name (unlinked after the test)."""

    def make(tag: str) -> str:
        name = segment_name("parity-" + tag)
        cleanup.extend([name, name + "-next"])
        return name

    return make


def put(name: str, data: bytes, owner: Optional[int] = None) -> None:
    """Replaces /dev/shm/NAME at once (a new file renamed over the name), owned by `owner`."""
    tmp = f"/dev/shm/{name}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    if owner is not None:
        os.chown(tmp, owner, owner)
    os.replace(tmp, "/dev/shm/" + name)


def record(level: int, unix_ns: int, tag: bytes, message: bytes,
           fields: Sequence[Sequence[bytes]] = (), thread: int = 7, flags: int = 0) -> bytes:
    out = bytearray(struct.pack("<BBBBIQBB", 0x9E, 1, level, flags, thread, unix_ns, len(tag),
                                len(fields)))
    out += tag
    for key, value in fields:
        out += struct.pack("<B", len(key)) + key + struct.pack("<H", len(value)) + value
    return bytes(out + message)


# A record log that exercises every column and every escaping rule of docs/tools.md.
RECORDS = [
    record(0, 1_700_000_000_123_456_789, b"net", b"plain message", [(b"k", b"v")]),
    record(1, 1_700_000_001_000_000_000, b"a\tb\nc\x1b\x7f\xc2\x9b", b"tag with controls"),
    record(2, 1_700_000_002_999_999_999, b"multi",
           b"line one\nline two\twith tab\r\x1b[31mred\x1b[0m \xc2\x85 del\x7f\nthird",
           [(b"key\n\t", b"value\x1b")]),
    record(3, 1_700_000_003_000_000_001, b"fields", b"quoting",
           [(b"empty", b""), (b"space", b"two words"), (b"quote", b'say "hi"'),
            (b"back", b"a\\b"), (b"eq", b"a=b"), (b"tab", b"a\tb"), (b"nl", b"a\nb"),
            (b"ctl", b"\x07\xc2\x9b"), (b"both", b'x "y"\\z\n'),
            (b"utf8", "\u00e9t\u00e9".encode())]),
    record(4, 1_700_000_004_500_000_000, "\u00fcn\u00efcode".encode(),
           "gr\u00fc\u00dfe \u4e16\u754c".encode()),
    record(5, 1_700_000_005_000_000_000, b"exactly8", b"critical", thread=4_294_967_295),
    record(2, 1_700_000_006_000_000_000, b"a-tag-longer-than-8", b"long tag"),
    record(2, 1_700_000_007_000_000_000, b"", b""),
    record(2, 1_700_000_008_000_000_000, b"trunc", b"cut here", flags=1),
    record(3, 0, b"notime", b"no timestamp"),
    record(2, 18_446_744_073_709_551_615, b"max", b"the last representable nanosecond"),
    record(9, 1_700_000_009_000_000_000, b"lvl", b"invalid level"),
    record(2, 1_700_000_010_000_000_000, b"utf", b"bad \xff byte"),
    b"\x9e\x07 unknown record version",
    b"plain \x1b[2J text \xff in a record log\nsecond line",
]

HOSTILE = [
    b"red \x1b[31mX\x1b[0m",
    b"bell\x07 nul\x00 cr\r del\x7f",
    b"c1 csi \xc2\x9b2J and nel \xc2\x85",
    b"bad \xff\xfe utf8 \xe2\x82",
    b"line1\nline2\n",
    b"tab\there \xc3\xa9t\xc3\xa9 \\x41 backslash",
    b'json "quotes" \\ \x08\x0c',
]

TEXT_VARIANTS: List[Dict[str, object]] = [
    {},
    {"utc": True},
    {"seq": True},
    {"color": "always"},
    {"color": "always", "seq": True, "utc": True},
    {"json": True},
]


@pytest.mark.parametrize("variant", TEXT_VARIANTS, ids=lambda v: "-".join(v) or "text")
def test_records(tails: Tails, shm: Callable[[str], str], variant: Dict[str, object]) -> None:
    name = shm("records")
    put(name, segment([RECORDS], records=True))
    assert_same(tails.run(name, **variant))


def test_records_max(tails: Tails, shm: Callable[[str], str]) -> None:
    name = shm("max")
    put(name, segment([RECORDS], records=True))
    text, json = tails.run_many([(name, {"max_entries": 3}),
                                 (name, {"max_entries": 3, "json": True})])
    assert_same(text, "--max 3")
    assert_same(json, "--max 3 --json")


@pytest.mark.parametrize("variant", [{}, {"seq": True}, {"json": True}],
                         ids=lambda v: "-".join(v) or "text")
def test_raw(tails: Tails, shm: Callable[[str], str], variant: Dict[str, object]) -> None:
    name = shm("raw")
    put(name, segment([HOSTILE], closed=True))
    # the test writer's payloads are binary: a sequence number, a checksum, filler bytes
    writer = Writer(name + "-next", "--count", "40", "--min-size", "12", "--max-size", "48")
    writer.go()
    assert writer.written() == 40
    crafted, written = tails.run_many([(name, variant), (name + "-next", variant)])
    assert_same(crafted, "(crafted)")
    assert_same(written, "(test writer)")


@pytest.mark.parametrize("vector,start", [
    ("records_malformed", "oldest"),
    ("records_typed", "oldest"),  # typed fields: JSON numbers and bools; hostile ones malformed
    ("ticks_uncalibrated", "oldest"),  # a tick stamp without calibration
    ("wrapped_many_chunks", "newest"),  # binary payloads; the newest chunk
    ("no_extension", "oldest"),  # no block: the writer's state is unknown, never reported
    ("closed_writer", "oldest"),
    ("corrupt_entry_past_end", "oldest"),
    ("forged_rows_corrupt_entries", "oldest"),  # 64 corrupt reads in two events
])
def test_vectors(tails: Tails, shm: Callable[[str], str], vector: str, start: str) -> None:
    name = shm("vector")
    put(name, (VECTORS / f"{vector}.bin").read_bytes())
    text, json = tails.run_many([(name, {"start": start, "seq": True}),
                                 (name, {"start": start, "json": True})])
    assert_same(text, "text")
    assert_same(json, "json")


def test_typed_fields_are_json_values(tails: Tails, shm: Callable[[str], str]) -> None:
    """Every tail (not only the same bytes): numbers and bools bare, non-finite floats as
    strings, string fields quoted even when they look like numbers."""
    name = shm("typed")
    put(name, (VECTORS / "records_typed.bin").read_bytes())
    results = tails.run(name, start="oldest", json=True)
    assert_same(results, "json")
    for which, result in results.items():
        lines = [json.loads(line) for line in result.out.decode().splitlines()]
        fields = lines[0]["fields"]
        assert fields["rows"] == 12 and fields["max"] == 18446744073709551615, which
        assert fields["ratio"] == 0.1 and fields["ok"] is True and fields["id"] == "12", which
        assert lines[1]["fields"]["nan"] == "nan" and lines[1]["fields"]["no"] is False, which
        assert lines[2]["malformed"] == "field of an unknown type or not of its type", which


def test_gaps(tails: Tails, shm: Callable[[str], str]) -> None:
    # Chunks whose tokens jump: entries 3-4 and 8-19 were overwritten, one entry lost alone.
    name = shm("gaps")
    chunks = [[b"one", b"two"], [b"five", b"six", b"seven"], [b"twenty"], [b"twenty-two"]]
    data = bytearray(segment(chunks))
    # segment() numbers chunks back to back; move the tokens to leave holes
    for row, token in ((1, 4), (2, 19), (3, 21)):
        struct.pack_into("<Q", data, 16 + 16 * row + 8, token)
    put(name, bytes(data))
    text, json = tails.run_many([(name, {"seq": True}), (name, {"json": True})])
    assert_same(text, "text")
    assert_same(json, "json")


def test_large_sequence_numbers(tails: Tails, shm: Callable[[str], str]) -> None:
    # Beyond 2^53: exact 64-bit integers in text and JSON (no float on the way).
    name = shm("large-seq")
    data = bytearray(segment([[b"a", b"b", b"c"]], records=True))
    struct.pack_into("<Q", data, 24, 2**60 + 3)  # row 0's token: entries 2^60 + 4 .. + 6
    put(name, bytes(data))
    text, json = tails.run_many([(name, {"seq": True}), (name, {"json": True})])
    assert_same(text, "text")
    assert_same(json, "json")
    assert b'"seq":%d,' % (2**60 + 6) in json["cli"].out


def test_corrupt_entries(tails: Tails, shm: Callable[[str], str]) -> None:
    # Five chunks of one entry and one corrupt entry (reserved length 3): a corrupt event at
    # once, the other four counted into one more at the end, before the writer's end.
    name = shm("corrupt")
    put(name, segment([[b"entry %d" % i, COMMITTED_ENTRY | 3] for i in range(5)]))
    text, json = tails.run_many([(name, {}), (name, {"json": True})])
    assert_same(text, "text")
    assert_same(json, "json")


def test_closed_writer(tails: Tails, shm: Callable[[str], str]) -> None:
    name = shm("closed")
    writer = Writer(name, "--records", "--count", "20")
    writer.go()
    assert writer.written() == 20
    text, json = tails.run_many([(name, {"utc": True}), (name, {"json": True})])
    assert_same(text, "text")
    assert_same(json, "json")


def test_killed_writer(tails: Tails, shm: Callable[[str], str]) -> None:
    name = shm("killed")
    writer = Writer(name, "--records", "--seconds", "30", "--rate", "2000")
    writer.go()
    time.sleep(0.1)
    writer.kill()  # SIGKILL, and reaped
    text, json = tails.run_many([(name, {"seq": True}), (name, {"json": True})])
    assert_same(text, "text")
    assert_same(json, "json")


def test_hostile_segment_name(tails: Tails, shm: Callable[[str], str]) -> None:
    # A name cannot drive the terminal or fake a line: escaped in events, warnings and errors;
    # in JSON, a byte that is not UTF-8 becomes U+FFFD.
    name = shm("esc\x1b[31m\t\nline\udcff\u009b")  # \udcff: the byte 0xff, as argv gives it
    put(name, segment([[b"x"]]), owner=65534 if os.geteuid() == 0 else None)
    text, json, missing = tails.run_many([(name, {}), (name, {"json": True}),
                                          (name + "-missing", {})])
    assert_same(text, "text")
    assert_same(json, "json")
    assert_same(missing, "missing")
    assert b"esc\\x1b[31m\\x09\\x0aline\\xff\\x9b" in text["cli"].err


def test_errors(tails: Tails, shm: Callable[[str], str]) -> None:
    missing = shm("missing")
    runs = tails.run_many([(missing, {}), ("a/b", {}), ("", {})])
    assert_same(runs[0], "missing segment")
    assert_same(runs[1], "invalid name")
    assert_same(runs[2], "empty name")
    junk = {vector: shm(vector) for vector in ("corrupt_bad_magic", "corrupt_bad_version",
                                                "corrupt_zero_chunks", "corrupt_too_short")}
    for vector, name in junk.items():
        put(name, (VECTORS / f"{vector}.bin").read_bytes())
    for vector, result in zip(junk, tails.run_many([(name, {}) for name in junk.values()])):
        assert_same(result, vector)
    fifo = shm("fifo")
    os.mkfifo("/dev/shm/" + fifo, 0o600)
    runs = tails.run_many([(fifo, {}), (fifo, {"follow": True})])
    assert_same(runs[0], "FIFO")
    assert_same(runs[1], "FIFO, following")


def test_exit_on_close(tails: Tails, shm: Callable[[str], str]) -> None:
    name = shm("exit-on-close")
    put(name, segment([[b"a", b"b", b"c"]], closed=True))
    put(name + "-next", segment([[b"a", b"b", b"c"]]))  # gone
    runs = tails.run_many([(name, {"follow": True, "exit_on_close": True, "seq": True}),
                           (name, {"follow": True, "exit_on_close": True, "json": True}),
                           (name + "-next", {"follow": True, "exit_on_close": True})])
    assert_same(runs[0], "text")
    assert_same(runs[1], "json")
    assert_same(runs[2], "text, gone")


# -- a truncated segment without --follow -------------------------------------------------------


def full_pipe() -> "tuple[int, int, int]":
    """A pipe with its buffer full: a process that writes to it blocks until it is read."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    filled = 0
    for size in (4096, 1):
        try:
            while True:
                filled += os.write(write_end, b"\0" * size)
        except BlockingIOError:
            pass
    os.set_blocking(write_end, True)  # the flag belongs to the open file, which the child shares
    return read_end, write_end, filled


def blocked_writing(pid: int) -> bool:
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/wchan") as f:
                if "pipe_write" in f.read():
                    return True
        except OSError:
            pass
    return False


def truncated_run(tails: Tails, which: str, name: str, data: bytes, **options: object) -> Result:
    """The tail attaches to a segment owned by another user, so its first write is the owner
    warning on stderr, a full pipe: it blocks there, attached and before its first read. The
    segment is truncated to 0 bytes meanwhile; then the pipe is drained."""
    put(name, data, owner=65534)
    read_end, write_end, filled = full_pipe()
    proc = tails.start(which, name, stderr=write_end, **options)
    os.close(write_end)
    chunks: List[bytes] = []
    drain = threading.Thread(
        target=lambda: chunks.extend(iter(lambda: os.read(read_end, 65536), b"")))
    try:
        deadline = time.monotonic() + 15
        while not blocked_writing(proc.pid):
            assert proc.poll() is None, f"{which} ended before it warned: {proc.returncode}"
            assert time.monotonic() < deadline, f"{which} never blocked on its warning"
            time.sleep(0.005)
        os.truncate("/dev/shm/" + name, 0)
        drain.start()
        out, _ = proc.communicate(timeout=15)
        drain.join(timeout=15)
    finally:
        proc.kill()
        proc.wait()
        os.close(read_end)
    err = b"".join(chunks)
    assert err[:filled] == b"\0" * filled
    return Result(proc.returncode, out, err[filled:])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the segment to another user")
@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_truncated_without_follow(tails: Tails, shm: Callable[[str], str], json: bool) -> None:
    name = shm("truncated")
    data = segment([[b"one", b"two", b"three"]])
    results = {which: truncated_run(tails, which, name, data, json=json) for which in TAILS}
    assert_same(results)
    assert results["cli"].code == 1


# -- following: restarts and truncation ----------------------------------------------------------


class Following:
    """The three tails following one segment in text mode (with --seq) and in JSON mode."""

    def __init__(self, tails: Tails, name: str, **extra: object) -> None:
        self.procs: Dict[str, "subprocess.Popen[bytes]"] = {}
        self.data: Dict[str, List[bytearray]] = {}
        self.threads: List[threading.Thread] = []
        self.lock = threading.Lock()
        for which in TAILS:
            for mode in ("text", "json"):
                key = f"{which}-{mode}"
                options = {"seq": True} if mode == "text" else {"json": True}
                proc = tails.start(which, name, follow=True, **options, **extra)
                self.procs[key] = proc
                self.data[key] = [bytearray(), bytearray()]
                for index, stream in enumerate((proc.stdout, proc.stderr)):
                    thread = threading.Thread(target=self._pump, args=(stream, key, index),
                                              daemon=True)
                    thread.start()
                    self.threads.append(thread)

    def _pump(self, stream: "Optional[object]", key: str, index: int) -> None:
        fd = stream.fileno()  # type: ignore[union-attr]
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            with self.lock:
                self.data[key][index] += chunk

    def events(self, key: str) -> bytes:
        """Where a tail's events go: stderr in text mode, stdout in JSON mode."""
        with self.lock:
            return bytes(self.data[key][0 if key.endswith("json") else 1])

    def wait_for(self, marker: bytes, count: int = 1, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        for key in self.procs:
            while self.events(key).count(marker) < count:
                if time.monotonic() > deadline:
                    with self.lock:
                        state = {k: (bytes(v[0][-800:]), bytes(v[1][-800:]))
                                 for k, v in self.data.items()}
                    pytest.fail(f"{key}: {marker!r} not seen {count} times; {state}")
                assert self.procs[key].poll() is None, f"{key} ended: {self.data[key]}"
                time.sleep(0.01)

    def wait_for_entry(self, seq: int, timeout: float = 15) -> None:
        """Until every tail has shown entry `seq` (text mode runs with --seq)."""
        deadline = time.monotonic() + timeout
        for key, proc in self.procs.items():
            marker = b'"seq":%d,' % seq if key.endswith("json") else b"#%d " % seq
            while True:
                with self.lock:
                    if marker in self.data[key][0]:
                        break
                assert time.monotonic() < deadline, f"{key}: no entry {seq}: {self.data[key]}"
                assert proc.poll() is None, f"{key} ended: {self.data[key]}"
                time.sleep(0.01)

    def stop(self, signal_them: bool = True) -> Dict[str, Dict[str, Result]]:
        """SIGTERM (or, with signal_them False, wait for them to end) and the outputs by mode."""
        if signal_them:
            time.sleep(0.4)  # anything a tail would print after the last marker
            for proc in self.procs.values():
                proc.send_signal(signal.SIGTERM)
        codes = {key: proc.wait(timeout=10) for key, proc in self.procs.items()}
        for thread in self.threads:
            thread.join(timeout=10)
        by_mode: Dict[str, Dict[str, Result]] = {"text": {}, "json": {}}
        for key, (out, err) in self.data.items():
            which, mode = key.split("-")
            by_mode[mode][which] = Result(codes[key], bytes(out), bytes(err))
        return by_mode

    def kill(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def following(tails: Tails) -> Iterator[Callable[[str], Following]]:
    started: List[Following] = []

    def start(name: str, **extra: object) -> Following:
        run = Following(tails, name, **extra)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()


def test_restart_with_lost_entries(shm: Callable[[str], str],
                                   following: Callable[[str], Following]) -> None:
    name = shm("restart")
    first = Writer(name, "--records", "--count", "5")
    first.go()
    assert first.written() == 5
    run = following(name)
    run.wait_for(b"writer closed: ")
    # The next incarnation, complete before the tails see it: a small ring that overwrote its
    # first entries, renamed over the name at once.
    second = Writer(name + "-next", "--records", "--chunks", "4", "--chunk-size", "1024",
                    "--count", "2000")
    second.go()
    assert second.written() == 2000
    os.rename(f"/dev/shm/{name}-next", f"/dev/shm/{name}")
    run.wait_for(b"writer closed: ", 2)
    results = run.stop()
    assert_same(results["text"], "text")
    assert_same(results["json"], "json")
    assert b"writer_restarted" in results["json"]["cli"].out


def shrink(name: str, size: int) -> None:
    """Truncates the segment once the tails have gone idle. The Python reader cannot survive a
    shrink in the microseconds between its size check and its reads of the mapping right after
    it printed something (python/README.md, residual race); idle, it polls through the
    descriptor, so a shrink then is always seen and reported."""
    time.sleep(0.05)
    os.truncate("/dev/shm/" + name, size)


def test_truncated_while_following(shm: Callable[[str], str],
                                   following: Callable[[str], Following]) -> None:
    name = shm("shrink")
    incarnation, other = 0x1111111111111111, 0x2222222222222222
    payloads = [b"entry %d" % i for i in range(5)]
    put(name, segment([payloads], incarnation=incarnation))  # entries 1..5, writer gone
    run = following(name)
    run.wait_for(b"writer gone: ")
    run.wait_for_entry(5)
    shrink(name, 0)
    run.wait_for(b" was truncated: ")
    # The same incarnation back at its size, as if the writer had gone on to entry 25: the
    # tails resume after entry 5, entries 6..20 are a gap, its end is not news.
    later = bytearray(segment([payloads], incarnation=incarnation))
    struct.pack_into("<Q", later, 24, 20)
    put(name, bytes(later))
    run.wait_for(b"attached to segment ")
    run.wait_for_entry(25)
    shrink(name, 0)
    run.wait_for(b" was truncated: ", 2)
    # A new incarnation while truncated: a restart, with a gap from 1.
    newer = bytearray(segment([payloads[:3]], incarnation=other, closed=True))
    struct.pack_into("<Q", newer, 24, 7)
    put(name, bytes(newer))
    run.wait_for(b"writer closed: ")
    results = run.stop()
    assert_same(results["text"], "text")
    assert_same(results["json"], "json")
    assert results["json"]["cli"].out.count(b'"type":"gap"') == 2


def test_restart_found_before_its_first_chunk(shm: Callable[[str], str],
                                              following: Callable[[str], Following]) -> None:
    # The new incarnation has no committed chunk when the tails find it; its first chunk starts
    # at entry 6: the gap 1..5 comes before its first entry. With root, the new incarnation
    # belongs to another user: warned about again, before the restart event.
    name = shm("restart-empty")
    put(name, segment([[b"one", b"two"]], closed=True, incarnation=0x1111111111111111))
    run = following(name)
    run.wait_for(b"writer closed: ")
    later = bytearray(segment([[b"six", b"seven", b"eight"]], incarnation=0x2222222222222222))
    row = bytes(later[16:32])
    struct.pack_into("<QQ", later, 16, 0, 0)  # the row not committed yet
    put(name, bytes(later), owner=65534 if os.geteuid() == 0 else None)
    run.wait_for(b"writer gone: ")
    with open("/dev/shm/" + name, "r+b") as f:
        os.pwrite(f.fileno(), struct.pack("<Q", 5), 24)  # token 5: entries 6, 7, 8
        os.pwrite(f.fileno(), row[:8], 16)  # the committed offset, last
    run.wait_for_entry(8)
    results = run.stop()
    assert_same(results["text"], "text")
    assert_same(results["json"], "json")
    assert b'"first_seq":1,"last_seq":5' in results["json"]["py"].out
    if os.geteuid() == 0:
        assert b"is owned by user " in results["text"]["cli"].err


def test_writer_ends_while_truncated(shm: Callable[[str], str],
                                     following: Callable[[str], Following]) -> None:
    # The header survives a shrink to 4096 bytes: the writer's close is still told, and ends
    # the tails under --exit-on-close. The entries reach past 4096 bytes, so every reader
    # touches the lost part on its next read.
    name = shm("end-truncated")
    data = segment([[b"%d" % i * 1500 for i in range(1, 4)]], pid=os.getpid())  # alive
    put(name, data)
    run = following(name, exit_on_close=True)
    run.wait_for_entry(3)
    shrink(name, 4096)
    run.wait_for(b" was truncated: ")
    with open("/dev/shm/" + name, "r+b") as f:
        flags_at = 16 + 16 + 52  # one row, then the extension block's flags
        os.pwrite(f.fileno(), struct.pack("<I", 1), flags_at)  # closed
    results = run.stop(signal_them=False)
    assert_same(results["text"], "text")
    assert_same(results["json"], "json")
    assert results["json"]["cli"].code == 0
    assert b"writer closed: " in results["json"]["cli"].out


def test_writer_gone_while_truncated(shm: Callable[[str], str],
                                     following: Callable[[str], Following]) -> None:
    name = shm("gone-truncated")
    writer = subprocess.Popen(["sleep", "60"])  # stands in for the writer process
    try:
        put(name, segment([[b"%d" % i * 1500 for i in range(1, 4)]], pid=writer.pid,
                          heartbeat=time.time_ns()))
        run = following(name)
        run.wait_for_entry(3)
        shrink(name, 4096)
        run.wait_for(b" was truncated: ")
    finally:
        writer.kill()
        writer.wait()
    run.wait_for(b"writer gone: ")
    time.sleep(0.3)
    results = run.stop()
    assert_same(results["text"], "text")
    assert_same(results["json"], "json")
