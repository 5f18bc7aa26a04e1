"""python -m ouroboros_reader follows the common tail contract (issue 10 items 6, 9, 10, 11):
events on stderr in text mode and as JSON objects on stdout in JSON mode, gap markers on stdout,
writer gone/closed reported and followed past, corruption reported (rate-limited), control
characters escaped, a foreign owner warned about, numeric options validated, the CLI's exit
codes; and the tail's side of items 1, 4 and 5 (truncated segment, non-regular files, restart
gaps)."""

import io
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from conftest import VECTORS, Lines, Writer, find_binary, run_tail, segment_name, start_tail
from crafted import record_payload, records_ring, ring_with_entries, rows_at_slots
from ouroboros_reader import __main__ as tail_main


def json_lines(text: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def killed_writer_segment(name: str) -> int:
    """A segment whose writer was killed (SIGKILL, reaped) after writing 5 entries."""
    writer = Writer(name, "--count", "5")
    pid = writer.proc.pid
    writer.proc.send_signal(signal.SIGKILL)
    writer.proc.wait()
    return pid


# -- item 6: writer lifecycle ---------------------------------------------------------------


def test_gone_writer_is_reported_without_follow(cleanup: List[str]) -> None:
    name = segment_name("gone")
    cleanup.append(name)
    pid = killed_writer_segment(name)
    result = run_tail("--no-follow", name)
    assert result.returncode == 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    gone = [l for l in lines if l.startswith("=== ") and l.endswith(" ===")]
    assert len(gone) == 1, result.stderr
    assert f"writer gone: process {pid} of segment /{name} no longer exists" in gone[0]

    result = run_tail("--no-follow", "--json", name)
    assert result.returncode == 0 and result.stderr == ""  # JSON events are not repeated
    (event,) = json_lines(result.stdout)
    assert list(event) == ["type", "event", "segment", "pid", "incarnation", "message"]
    assert event["type"] == "event" and event["event"] == "writer_gone"
    assert event["segment"] == "/" + name and event["pid"] == pid
    assert len(event["incarnation"]) == 16 and int(event["incarnation"], 16) != 0
    # the same words (the heartbeat's age moves on between the two runs)
    assert event["message"].split("; last heartbeat")[0] == gone[0][4:-4].split("; last heartbeat")[0]


def test_closed_writer_is_reported_after_its_entries(cleanup: List[str]) -> None:
    name = segment_name("closed")
    cleanup.append(name)
    writer = Writer(name, "--records", "--count", "5")
    writer.go()
    assert writer.written() == 5
    result = run_tail("--no-follow", "--json", "--start", "oldest", name)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    # the writer's end is said once the tail has read everything
    assert [l["type"] for l in lines] == ["entry"] * 5 + ["event"]
    assert lines[-1]["event"] == "writer_closed" and lines[-1]["pid"] == writer.proc.pid
    entry = lines[0]
    assert list(entry) == ["type", "seq", "time", "time_ns", "level", "tag", "thread", "message",
                           "fields"]
    assert entry["seq"] == 1 and entry["message"] == "entry 1" and entry["fields"] == {"seq": "1"}
    assert entry["level"] == "debug" and entry["tag"] == "live" and entry["thread"] == 1
    assert entry["time"].endswith("Z") and len(entry["time"]) == 30
    text = run_tail("--no-follow", "--start", "oldest", name)
    assert text.returncode == 0
    assert len(text.stdout.splitlines()) == 5
    assert f"=== writer closed: process {writer.proc.pid} shut segment /{name} down cleanly ===" \
        in text.stderr.splitlines()


def test_following_tail_keeps_following_a_gone_writer(cleanup: List[str]) -> None:
    name = segment_name("gone-follow")
    cleanup.append(name)
    killed_writer_segment(name)
    tail = start_tail("--json", name)
    try:
        assert tail.stdout is not None and tail.stderr is not None
        out, err = Lines(tail.stdout), Lines(tail.stderr)
        event = json.loads(out.next())
        assert event["event"] == "writer_gone"
        time.sleep(1.0)
        assert tail.poll() is None, "the tail must keep following for a new incarnation"
        writer = Writer(name, "--records", "--count", "3")
        writer.go()
        assert writer.written() == 3
        restarted = json.loads(out.next())
        assert restarted["event"] == "writer_restarted", restarted
        assert restarted["pid"] == writer.proc.pid
        assert "re-attached at its oldest entry" in restarted["message"]
        seqs = [json.loads(out.next())["seq"] for _ in range(3)]
        assert seqs == [1, 2, 3]
        closed = json.loads(out.next())
        assert closed["event"] == "writer_closed"
        tail.send_signal(signal.SIGINT)
        assert tail.wait(timeout=10) == 0
        assert out.rest() == [] and err.rest() == []
    finally:
        tail.kill()
        tail.wait()


def test_exit_on_close_exits_after_reporting(cleanup: List[str]) -> None:
    name = segment_name("exit-on-close")
    cleanup.append(name)
    pid = killed_writer_segment(name)
    result = run_tail("--exit-on-close", name, timeout=15)
    assert result.returncode == 0
    assert f"=== writer gone: process {pid} of segment /{name}" in result.stderr


def test_corruption_is_reported_as_an_event_and_a_gap() -> None:
    path = str(VECTORS / "corrupt_reserved_length.bin")
    text = run_tail("--file", path)
    assert text.returncode == 0
    assert f"=== corrupt data skipped in segment {path}: reserved entry length 2 or 3 ===" \
        in text.stderr.splitlines()
    assert any(l.startswith("--- 1 entry overwritten, seq ") for l in text.stdout.splitlines())
    js = run_tail("--file", path, "--json")
    assert js.returncode == 0 and js.stderr == ""
    lines = json_lines(js.stdout)
    (corrupt,) = [l for l in lines if l["type"] == "event"]
    assert corrupt == {
        "type": "event",
        "event": "corrupt",
        "segment": path,
        "pid": 4242,  # the writer as known, as on every event
        "incarnation": "0123456789abcdef",
        "count": 1,
        "message": f"corrupt data skipped in segment {path}: reserved entry length 2 or 3",
    }
    assert list(corrupt) == ["type", "event", "segment", "pid", "incarnation", "count", "message"]
    (gap,) = [l for l in lines if l["type"] == "gap"]
    assert list(gap) == ["type", "lost", "first_seq", "last_seq", "message"]
    assert gap["lost"] == 1 and gap["first_seq"] == gap["last_seq"]
    assert gap["message"] == f"1 entry overwritten, seq {gap['first_seq']}"
    assert lines.index(corrupt) < lines.index(gap)


def test_corrupt_events_are_rate_limited(tmp_path: Path) -> None:
    # 300 corrupt rows read in well under a second: one event at once, one more that covers
    # the rest; every skip still gets its gap marker.
    path = tmp_path / "many-corrupt.bin"
    path.write_bytes(rows_at_slots(300, 0x80000002))
    result = run_tail("--file", str(path), "--json")
    assert result.returncode == 0
    lines = json_lines(result.stdout)
    events = [l for l in lines if l["type"] == "event"]
    assert [e["event"] for e in events] == ["corrupt", "corrupt"]
    assert events[0]["message"].endswith(": reserved entry length 2 or 3")
    assert events[0]["count"] == 1
    assert events[1]["message"].endswith(": reserved entry length 2 or 3 (299 corrupt reads)")
    assert events[1]["count"] == 299
    gaps = [l for l in lines if l["type"] == "gap"]
    assert len(gaps) == 299 and all(g["lost"] == 1 for g in gaps)


def test_gap_marker_text_and_json() -> None:
    path = str(VECTORS / "gap_token_jump.bin")
    text = run_tail("--file", path)
    assert "--- 2 entries overwritten, seq 3\u20134 ---" in text.stdout.splitlines()
    (gap,) = [l for l in json_lines(run_tail("--file", path, "--json").stdout) if l["type"] == "gap"]
    assert gap == {"type": "gap", "lost": 2, "first_seq": 3, "last_seq": 4,
                   "message": "2 entries overwritten, seq 3\u20134"}


# -- item 9: control characters -------------------------------------------------------------

HOSTILE = [
    b"red \x1b[31mX\x1b[0m",
    b"bell\x07 nul\x00 cr\r del\x7f",
    b"c1 csi \xc2\x9b2J and nel \xc2\x85",
    b"bad \xff\xfe utf8 \xe2\x82",
    b"line1\nline2",
    b"tab\there \xc3\xa9t\xc3\xa9",
]


def test_text_output_escapes_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(ring_with_entries(HOSTILE))
    result = run_tail("--file", str(path), "--seq")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "#1 red \\x1b[31mX\\x1b[0m",
        "#2 bell\\x07 nul\\x00 cr\\x0d del\\x7f",
        "#3 c1 csi \\x9b2J and nel \\x85",
        "#4 bad \\xff\\xfe utf8 \\xe2\\x82",
        "#5 line1",
        "    line2",
        "#6 tab\there \u00e9t\u00e9",
    ]
    for ch in ["\x1b", "\x07", "\x00", "\r", "\x7f", "\x9b", "\x85"]:
        assert ch not in result.stdout


def test_json_output_escapes_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(ring_with_entries(HOSTILE))
    result = run_tail("--file", str(path), "--json")
    assert result.returncode == 0
    for ch in ["\x1b", "\x07", "\x00", "\r", "\x7f", "\x9b", "\x85"]:
        assert ch not in result.stdout
    assert "\\u009b" in result.stdout and "\\u007f" in result.stdout
    lines = json_lines(result.stdout)
    assert lines[0] == {"type": "entry", "seq": 1, "message": "red \x1b[31mX\x1b[0m"}
    assert lines[2]["message"] == "c1 csi \x9b2J and nel \x85"
    assert lines[3] == {"type": "entry", "seq": 4, "message": "bad \ufffd\ufffd utf8 \ufffd\ufffd",
                        "binary": True}


def test_one_line_parts_of_a_record_escape_tab_and_newline(tmp_path: Path) -> None:
    # The message keeps its lines; the tag and the fields must not break the entry's line.
    path = tmp_path / "record.bin"
    path.write_bytes(records_ring([
        record_payload(2, 7, 1_700_000_000_123_456_789, b"a\tb\nc\x1b", b"m1\nm2\tx\xc2\x9b",
                       [(b"k\n", b"v\tw\x07")]),
    ]))
    result = run_tail("--file", str(path), "--utc")
    assert result.returncode == 0, result.stderr
    # the CLI's columns: the tag padded to 8 bytes; a value with a TAB is quoted
    assert result.stdout.splitlines() == [
        "2023-11-14 22:13:20.123456 INFO  a\\x09b\\x0ac\\x1b   [7] m1",
        '    m2\tx\\x9b k\\x0a="v\\x09w\\x07"',
    ]
    (entry,) = json_lines(run_tail("--file", str(path), "--json").stdout)
    assert entry["tag"] == "a\tb\nc\x1b" and entry["message"] == "m1\nm2\tx\x9b"
    assert entry["fields"] == {"k\n": "v\tw\x07"}


def test_segment_names_are_escaped(cleanup: List[str]) -> None:
    name = segment_name("esc\x1b[2J\x07")
    result = run_tail("--no-follow", name)
    assert result.returncode == 3
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "esc\\x1b[2J\\x07" in result.stderr
    cleanup.append(name)
    writer = Writer(name, "--count", "2")
    writer.go()
    writer.written()
    result = run_tail("--no-follow", name)
    assert result.returncode == 0
    assert "\x1b" not in result.stderr
    shown = name.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert f"shut segment /{shown} down cleanly" in result.stderr


# -- item 10: owner ---------------------------------------------------------------------------


def test_owner_other_than_the_reader_is_warned_about(
    cleanup: List[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = segment_name("owner")
    cleanup.append(name)
    shutil.copyfile(VECTORS / "fresh_plain.bin", "/dev/shm/" + name)
    owner = os.stat("/dev/shm/" + name).st_uid
    assert tail_main.main(["--no-follow", name], io.StringIO()) == 0
    assert "warning" not in capsys.readouterr().err
    me = owner + 4242
    monkeypatch.setattr(os, "geteuid", lambda: me)
    out = io.StringIO()
    assert tail_main.main(["--no-follow", name], out) == 0
    err = capsys.readouterr().err
    import pwd

    try:
        user = pwd.getpwuid(owner).pw_name
    except KeyError:
        user = str(owner)
    warning = (f"ouroboros_reader: warning: segment /{name} is owned by user {user} "
               f"(uid {owner}), not by you (uid {me})")
    assert err.splitlines().count(warning) == 1, err
    assert out.getvalue().splitlines()[0] == "hello"


# -- item 11: numeric options and exit codes -------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "18446744073709551616", "12abc", "", "1_000", " 5", "+5", "\u0665"])
def test_bad_max_is_a_usage_error(value: str) -> None:
    result = run_tail("--file", str(VECTORS / "fresh_plain.bin"), f"--max={value}")
    assert result.returncode == 2, (value, result.stdout)
    assert (
        f'--max: expected a whole number from 0 to 18446744073709551615, got "{value}"'
        in result.stderr
    )
    assert result.stdout == ""


def test_good_max_values() -> None:
    path = str(VECTORS / "records.bin")

    def entries(*args: str) -> int:
        # continuation lines of multi-line messages are indented
        return sum(1 for l in run_tail("--file", path, *args).stdout.splitlines() if l[:1] != " ")

    assert entries("--max", "3") == 3
    assert entries("--max", "18446744073709551615") == 13
    assert entries("--max", "0") == 13


def test_exit_codes(cleanup: List[str], tmp_path: Path) -> None:
    missing = segment_name("missing")
    result = run_tail("--no-follow", missing)
    assert result.returncode == 3 and "does not exist" in result.stderr
    assert run_tail("--no-follow", "a/b").returncode == 2
    junk = segment_name("junk")
    cleanup.append(junk)
    Path("/dev/shm/" + junk).write_bytes(b"\x01" * 4096)
    result = run_tail("--no-follow", junk)
    assert result.returncode == 4 and "no ring buffer magic" in result.stderr
    assert run_tail("--file", str(tmp_path / "nope.bin")).returncode == 3
    assert run_tail("--file", str(VECTORS / "corrupt_bad_magic.bin")).returncode == 4


# -- the tail on a hostile machine (items 1, 4, 5) ---------------------------------------------


def test_non_regular_files_under_the_name_exit_4_at_once(cleanup: List[str], tmp_path: Path) -> None:
    fifo = segment_name("fifo")
    directory = segment_name("dir")
    target = segment_name("link-target")
    link = segment_name("link")
    cleanup.extend([fifo, directory, link, target])
    os.mkfifo("/dev/shm/" + fifo, 0o666)
    os.mkdir("/dev/shm/" + directory)
    shutil.copyfile(VECTORS / "fresh_plain.bin", "/dev/shm/" + target)
    os.symlink("/dev/shm/" + target, "/dev/shm/" + link)
    dump_fifo = tmp_path / "dump.bin"
    os.mkfifo(dump_fifo)
    cases = [
        ([fifo, "--no-follow"], f"'/dev/shm/{fifo}' is not a regular file (it is a FIFO)"),
        ([fifo], f"'/dev/shm/{fifo}' is not a regular file (it is a FIFO)"),
        ([fifo, "--json"], f"'/dev/shm/{fifo}' is not a regular file (it is a FIFO)"),
        ([directory], f"'/dev/shm/{directory}' is not a regular file (it is a directory)"),
        ([link], f"'/dev/shm/{link}' is not a regular file (it is a symbolic link)"),
        (["--file", str(dump_fifo)], f"'{dump_fifo}' is not a regular file (it is a FIFO)"),
    ]
    for args, message in cases:
        result = run_tail(*args, timeout=15)  # a blocking open() would time out
        assert result.returncode == 4, (args, result.returncode, result.stderr)
        assert result.stderr == f"ouroboros_reader: error: {message}\n"
        assert result.stdout == ""
    assert run_tail(target, "--no-follow").returncode == 0  # the symlink's target is fine


def kept_segment(name: str, count: int, *args: str) -> int:
    """A closed segment left in /dev/shm by a writer that wrote `count` entries."""
    writer = Writer(name, *args, "--count", str(count))
    writer.go()
    assert writer.written() == count
    return os.stat("/dev/shm/" + name).st_size


def test_following_tail_reports_a_truncated_segment_and_waits(cleanup: List[str]) -> None:
    name = segment_name("shrink-tail")
    cleanup.append(name)
    size = kept_segment(name, 200, "--chunks", "4", "--chunk-size", "4096")
    tail = start_tail("--json", "--start", "oldest", name)
    try:
        assert tail.stdout is not None and tail.stderr is not None
        out, err = Lines(tail.stdout), Lines(tail.stderr)
        while json.loads(out.next()).get("seq") != 200:
            pass
        os.truncate("/dev/shm/" + name, 4096)
        event = json.loads(out.next())
        closed_before = event.get("event") == "writer_closed"
        if closed_before:
            event = json.loads(out.next())
        assert event["type"] == "event" and event["event"] == "segment_truncated", event
        assert event["segment"] == "/" + name
        assert event["message"] == (
            f"segment /{name} was truncated: another process shrank it under the reader; the "
            "entries read so far stand; waiting for it to be restored or re-created"
        )
        time.sleep(0.5)
        assert tail.poll() is None, "a following tail keeps waiting for the segment to come back"
        os.truncate("/dev/shm/" + name, size)
        event = json.loads(out.next())
        if event.get("event") == "writer_closed" and not closed_before:
            # not said before the truncation: said while waiting (the header survives a shrink)
            event = json.loads(out.next())
        assert event["event"] == "attached", event
        assert event["message"] == f"attached to segment /{name} (writer pid {event['pid']})"
        tail.send_signal(signal.SIGINT)
        assert tail.wait(timeout=10) == 0
        assert out.rest() == [] and err.rest() == []
    finally:
        tail.kill()
        tail.wait()


def test_tail_without_follow_exits_1_on_a_truncated_segment(cleanup: List[str]) -> None:
    # Enough entries that the tail is still reading when its stdout pipe is full; it blocks in
    # write() until the test reads, and the test shrinks the segment meanwhile.
    name = segment_name("shrink-nofollow")
    cleanup.append(name)
    writer = Writer(name, "--chunks", "64", "--chunk-size", "65536", "--count", "60000",
                    "--min-size", "12", "--max-size", "40")
    writer.go()
    assert writer.written() == 60000
    tail = start_tail("--no-follow", "--start", "oldest", name)
    try:
        assert tail.stdout is not None and tail.stderr is not None
        first = tail.stdout.readline()  # blocks at most until the tail prints or exits
        assert first, "the tail printed nothing"
        time.sleep(0.5)  # the pipe fills up and the tail blocks mid-read
        os.truncate("/dev/shm/" + name, 4096)
        out, err = Lines(tail.stdout), Lines(tail.stderr)
        lines, errors = out.rest(30), err.rest(30)
        returncode = tail.wait(timeout=10)
    finally:
        tail.kill()
        tail.wait()
    # Before: killed by SIGBUS (-7).
    assert returncode == 1, (returncode, errors)
    assert any(e.startswith("=== segment /") and "truncated" in e for e in errors), errors
    assert len(lines) + 1 < 60000


def demo_tail_run(name: str, writer_args: List[str]) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """Follows a demo writer that re-creates its segment, until the tail has said that the last
    incarnation closed (--exit-on-close could end the tail between two incarnations on a slow
    machine: it waits only 0.5 s for a successor)."""
    demo = find_binary("ouroboros-demo-writer")
    tail = start_tail("--json", "--start", "oldest", name)
    try:
        assert tail.stdout is not None and tail.stderr is not None
        out, err = Lines(tail.stdout), Lines(tail.stderr)  # read while the writer runs
        time.sleep(0.3)  # the tail waits for the name (follow mode gives it 2 s)
        proc = subprocess.run(
            [str(demo), "-s", name, "--json", "-q", *writer_args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        written = [json.loads(l) for l in proc.stdout.splitlines()]
        summary = [l for l in written if l["type"] == "summary"][-1]
        last = [l["incarnation"] for l in written if l["type"] == "restart"][-1]
        lines: List[Dict[str, Any]] = []
        while not (
            lines
            and lines[-1].get("event") == "writer_closed"
            and lines[-1].get("incarnation") == last
        ):
            lines.append(json.loads(out.next(30)))
        tail.send_signal(signal.SIGINT)
        returncode = tail.wait(timeout=10)
        assert out.rest() == []
        errors = err.rest()
    finally:
        tail.kill()
        tail.wait()
    assert returncode == 0, errors
    return lines, summary


def test_tail_accounts_for_every_entry_of_a_restarting_demo_writer(cleanup: List[str]) -> None:
    name = segment_name("demo-restarts")
    cleanup.append(name)
    # --keep: the last incarnation stays after the writer exits, so the tail finds it however
    # short it lived (the tail looks for a new segment every 0.25 s while it has no data). An
    # incarnation that came and went between two looks could not be counted by any reader.
    lines, summary = demo_tail_run(
        name,
        ["--chunks", "8", "--chunk-size", "4K", "--rate", "20000", "--duration", "2.4",
         "--restart-every", "0.6", "--keep"],
    )
    assert summary["restarts"] >= 3
    entries = [l for l in lines if l["type"] == "entry"]
    gaps = [l for l in lines if l["type"] == "gap"]
    events = [l for l in lines if l["type"] == "event"]
    restarts = [i for i, l in enumerate(lines) if l.get("event") == "writer_restarted"]
    assert len(restarts) == summary["restarts"], [e["event"] for e in events]
    for i in restarts:
        # A gap 1..k right after the restart event, when the new incarnation's oldest entry
        # is k + 1 > 1.
        after = lines[i + 1]
        if after["type"] == "gap":
            assert after["first_seq"] == 1 and after["last_seq"] == after["lost"]
        else:
            assert after["type"] == "entry" and after["seq"] == 1, after
    # Entries written before the tail attached (the first incarnation's start) are the only
    # ones neither delivered nor reported lost.
    skipped_at_start = entries[0]["seq"] - 1 if lines[0]["type"] == "entry" else 0
    lost = sum(g["lost"] for g in gaps)
    assert skipped_at_start + len(entries) + lost == summary["entries"]


