"""The Python API around the ring algorithm: names, errors, iteration, context manager."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import VECTORS
from ouroboros_reader import (
    InvalidNameError,
    Kind,
    Level,
    NotALogError,
    Reader,
    ReaderClosedError,
    SegmentNotFoundError,
    Start,
    Status,
    UnsupportedVersionError,
    CorruptSegmentError,
    FieldType,
    canonical_name,
)
from ouroboros_reader.__main__ import entry_json, main
from ouroboros_reader.records import BAD_FIELD, INVALID_UTF8, TRUNCATED


def test_canonical_names() -> None:
    assert canonical_name("app") == "/app"
    assert canonical_name("/app") == "/app"
    for bad in ["", "/", "a/b", "/a/b", "x" * 300, "/.", "/..", "a\0b"]:
        with pytest.raises(InvalidNameError):
            canonical_name(bad)


def test_missing_segment() -> None:
    with pytest.raises(SegmentNotFoundError):
        Reader.open("ouroboros-py-does-not-exist-12345")


def test_attach_errors_are_typed() -> None:
    with pytest.raises(NotALogError) as e:
        Reader.from_file(VECTORS / "corrupt_bad_magic.bin")
    assert e.value.detail == "no ring buffer magic"
    with pytest.raises(UnsupportedVersionError):
        Reader.from_file(VECTORS / "corrupt_bad_version.bin")
    with pytest.raises(CorruptSegmentError):
        Reader.from_file(VECTORS / "corrupt_zero_chunks.bin")
    with pytest.raises(NotALogError):
        Reader.from_bytes(b"")
    with pytest.raises(NotALogError):
        Reader.from_bytes(b"\x00" * 15)


def test_iteration_and_context_manager() -> None:
    with Reader.from_file(VECTORS / "records.bin") as reader:
        assert reader.records
        entries = list(reader)
        assert [e.seq for e in entries] == list(range(1, 14))
        assert entries[0].level is Level.TRACE and entries[0].tag == "levels"
        assert entries[6].fields == [("bytes", "1500"), ("peer", "10.0.0.1:443"), ("empty", "")]
        assert entries[6].unix_ns == 1_700_000_000_123_459_789
        assert entries[11].kind is Kind.PLAIN and entries[11].level is None
        assert entries[11].message == "plain text in a record segment"
        assert list(reader) == []  # nothing new
        assert reader.read_next().status is Status.NO_DATA
    assert reader.closed
    with pytest.raises(ReaderClosedError):
        reader.read_next()


def test_gaps_are_folded_into_the_next_entry() -> None:
    with Reader.from_file(VECTORS / "gap_token_jump.bin") as reader:
        entries = list(reader)
        assert [e.lost_before for e in entries if e.lost_before] == [2]
        assert entries[2].seq == 5 and entries[2].lost_before == 2
        assert reader.delivered + reader.lost == 14


def test_corruption_is_counted_not_raised() -> None:
    with Reader.from_file(VECTORS / "corrupt_reserved_length.bin") as reader:
        entries = list(reader)
        marked = [e for e in entries if e.corrupt_before]
        assert len(marked) == 1 and marked[0].lost_before == 1


def test_start_modes() -> None:
    path = VECTORS / "wrapped_plain.bin"
    with Reader.from_file(path, Start.NOW) as r:
        assert list(r) == []
    with Reader.from_file(path, "newest") as r:
        newest = [e.seq for e in r]
    with Reader.from_file(path, Start.OLDEST) as r:
        oldest = [e.seq for e in r]
    assert newest[-1] == oldest[-1] == 120
    assert len(newest) < len(oldest)


def test_malformed_record_keeps_its_bytes() -> None:
    with Reader.from_file(VECTORS / "records_malformed.bin") as reader:
        entries = list(reader)
    assert entries[1].kind is Kind.MALFORMED
    assert entries[1].error == "unknown record version"
    assert entries[1].payload.startswith(b"\x9e\x04")  # 3 is the typed-field record


def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    out = io.StringIO()
    assert main(["--file", str(VECTORS / "records.bin"), "--json"], out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 13
    assert lines[6]["fields"] == {"bytes": "1500", "peer": "10.0.0.1:443", "empty": ""}
    assert lines[6]["level"] == "info" and lines[6]["time"].endswith("Z")
    out = io.StringIO()
    assert main(["--file", str(VECTORS / "gap_token_jump.bin")], out) == 0
    assert "--- 2 entries overwritten, seq 3\u20134 ---" in out.getvalue().splitlines()
    assert main(["--file", str(VECTORS / "corrupt_bad_magic.bin")], io.StringIO()) == 4


def test_python_dash_m_runs() -> None:
    src = Path(__file__).resolve().parent.parent / "src"
    result = subprocess.run(
        [sys.executable, "-m", "ouroboros_reader", "--seq", "--file",
         str(VECTORS / "fresh_plain.bin")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "#1 hello"


def test_typed_fields_keep_their_type() -> None:
    import math

    with Reader.from_file(VECTORS / "records_typed.bin") as reader:
        entries = list(reader)
    first = entries[0].record
    assert first is not None
    assert first.typed_fields() == [
        ("rows", 12),
        ("min", -9223372036854775808),
        ("max", 18446744073709551615),
        ("ratio", 0.1),
        ("big", 1e16),
        ("tiny", 5e-324),
        ("neg0", -0.0),
        ("ok", True),
        ("id", "12"),
    ]
    assert [type(v) for _, v in first.typed_fields()] == [int] * 3 + [float] * 4 + [bool, str]
    assert first.field_types[0] is FieldType.I64
    line = entry_json(entries[0])
    assert '"rows":12,' in line and '"ok":true,' in line and '"id":"12"' in line
    assert '"big":1e+16,' in line  # the writer's text, not re-rendered
    assert json.loads(line)["fields"]["max"] == 18446744073709551615
    odd = entries[1].record
    assert odd is not None
    values = dict(odd.typed_fields())
    assert values["inf"] == math.inf and values["ninf"] == -math.inf
    assert math.isnan(values["nan"]) and math.isnan(values["nnan"]) and values["no"] is False
    assert json.loads(entry_json(entries[1]))["fields"] == {
        "inf": "inf",
        "ninf": "-inf",
        "nan": "nan",
        "nnan": "-nan",
        "no": False,
    }
    reasons = [e.error for e in entries[2:-1]]
    assert reasons == [BAD_FIELD] * 3 + [TRUNCATED] * 2 + [INVALID_UTF8] + [BAD_FIELD] * 3
