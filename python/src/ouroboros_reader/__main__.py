"""python -m ouroboros_reader: tail a segment (or print a dumped buffer) as text or JSON lines.

Follows the tail contract shared with `ouroboros-cli tail` and the Go tail: entries and gap
markers on stdout; events (attached, writer_restarted, writer_gone, writer_closed, corrupt,
segment_truncated) on stderr as `=== ... ===` lines in text mode, or as JSON objects on stdout in
JSON mode; control characters escaped; the CLI's exit codes (0 ok, 1 runtime failure, 2 usage,
3 segment missing, 4 not a readable log).
"""

import argparse
import datetime
import json
import json.encoder
import os
import pwd
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO

from ._errors import (
    AttachError,
    InvalidNameError,
    NotALogError,
    OuroborosError,
    SegmentNotFoundError,
)
from .reader import Entry, Kind, Liveness, Reader, Start, Status
from .records import Level

# The C encoder (escapes ", \\ and C0 controls; leaves the rest as is, like ensure_ascii=False).
_json_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]

PROG = "python -m ouroboros_reader"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_MISSING, EXIT_NOT_LOG = 0, 1, 2, 3, 4
U64_MAX = (1 << 64) - 1
POLL_INTERVAL = 0.005  # sleep between polls when there is no data (as the CLI)
LIVENESS_INTERVAL = 0.25  # how often an idle tail asks whether the writer is done (as the CLI)
MISSING_GRACE = 2.0  # following: a writer started a moment ago gets this long to create the name
CORRUPT_REPORT_INTERVAL = 1.0

# -- escaping ------------------------------------------------------------------------------------
# Text output: C0 controls but TAB and LF, DEL and the C1 controls print as \xNN; bytes that are
# not valid UTF-8 (decoded with surrogateescape to U+DC80..U+DCFF) print as \xNN of the byte. A
# message keeps its lines (LF continues on an indented line); everything that must stay on one
# line (names, tags, field keys and values, event lines, errors) escapes LF and TAB too.
_TEXT_ESCAPES: Dict[int, str] = {c: f"\\x{c:02x}" for c in range(0x20) if c not in (0x09, 0x0A)}
_TEXT_ESCAPES.update({c: f"\\x{c:02x}" for c in range(0x7F, 0xA0)})
_TEXT_ESCAPES.update({0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)})
_TEXT_ESCAPES[0x0A] = "\n    "
_LINE_ESCAPES = dict(_TEXT_ESCAPES)
_LINE_ESCAPES.update({0x09: "\\x09", 0x0A: "\\x0a"})
# JSON output: json.dumps escapes C0 as \u00NN; DEL and C1 get the same treatment (JSON strings
# are the only place they can occur), and invalid bytes become U+FFFD one byte each (as the CLI).
_JSON_ESCAPES: Dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}
_REPLACE_INVALID: Dict[int, str] = {0xDC00 + b: "\ufffd" for b in range(0x80, 0x100)}


def escape_text(text: str) -> str:
    """A message: multi-line."""
    # isprintable() is false for every character the table changes (and a few it leaves alone).
    return text if text.isprintable() else text.translate(_TEXT_ESCAPES)


def escape_line(text: str) -> str:
    """Anything that must stay on one line."""
    return text if text.isprintable() else text.translate(_LINE_ESCAPES)


def bytes_as_text(raw: bytes) -> str:
    return escape_text(raw.decode("utf-8", "surrogateescape"))


def json_line(obj: Dict[str, Any]) -> str:
    return json_safe(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def json_safe(line: str) -> str:
    """DEL and C1 escaped as JSON unicode escapes (json.dumps leaves them raw with
    ensure_ascii=False)."""
    if line.isascii() and "\x7f" not in line:
        return line
    return line.translate(_JSON_ESCAPES)


def json_string(text: str) -> str:
    """A str that may carry surrogate-escaped bytes (names from argv) made JSON-safe."""
    return text.translate(_REPLACE_INVALID)


_LEVEL_NAMES = tuple(str(level) for level in Level)
_second_text = [-1, ""]  # the formatted second of the last timestamp: one strftime per second


def time_text(unix_ns: Optional[int]) -> str:
    if unix_ns is None:
        return "-"
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    if seconds != _second_text[0]:
        try:
            moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return str(unix_ns)
        _second_text[0] = seconds
        _second_text[1] = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second_text[1]}.{nanos:09d}Z"


# -- entries and gaps ------------------------------------------------------------------------
def entry_json(entry: Entry) -> str:
    """One JSON line in the CLI's entry shape: type, seq, time, time_ns, level, tag, thread,
    message, binary, malformed, truncated, fields (each only where it applies; fields in the
    record's order, repeated keys included)."""
    record = entry.record
    if record is None:
        out: Dict[str, Any] = {"type": "entry", "seq": entry.seq}
        try:
            out["message"] = entry.payload.decode("utf-8")
        except UnicodeDecodeError:
            out["message"] = json_string(entry.payload.decode("utf-8", "surrogateescape"))
            out["binary"] = True
        if entry.kind is Kind.MALFORMED:
            out["malformed"] = entry.error
        return json_line(out)
    parts = ['{"type":"entry","seq":', str(entry.seq)]
    unix_ns = entry.unix_ns
    if unix_ns:
        parts.append(f',"time":"{time_text(unix_ns)}","time_ns":{unix_ns}')
    parts.append(
        f',"level":"{_LEVEL_NAMES[record.level]}","tag":{_json_str(record.tag)},'
        f'"thread":{record.thread},"message":{_json_str(record.message)}'
    )
    if record.truncated:
        parts.append(',"truncated":true')
    if record.fields:
        parts.append(',"fields":{')
        parts.append(",".join(f"{_json_str(k)}:{_json_str(v)}" for k, v in record.fields))
        parts.append("}")
    parts.append("}")
    return json_safe("".join(parts))


def entry_text(entry: Entry) -> str:
    record = entry.record
    if record is not None:
        fields = "".join(f" {escape_line(k)}={escape_line(v)}" for k, v in record.fields)
        trunc = " [truncated]" if record.truncated else ""
        return (
            f"{entry.seq} {time_text(entry.unix_ns)} {str(record.level):<8} "
            f"[{escape_line(record.tag)}] (thread {record.thread}) "
            f"{escape_text(record.message)}{trunc}{fields}"
        )
    if entry.kind is Kind.MALFORMED:
        return f"{entry.seq} malformed record ({entry.error}): {entry.payload.hex()}"
    return f"{entry.seq} {bytes_as_text(entry.payload)}"


def describe_gap(lost: int, first: int, last: int) -> str:
    if lost == 1:
        return f"1 entry overwritten, seq {first}"
    return f"{lost} entries overwritten, seq {first}\u2013{last}"


# -- events ------------------------------------------------------------------------------------
class Output:
    """Where everything goes: entries and gaps to `out`; events to `err` as text lines, or to
    `out` as JSON objects in JSON mode."""

    def __init__(self, out: TextIO, err: TextIO, json_mode: bool, segment: str) -> None:
        self.out = out
        self.err = err
        self.json = json_mode
        self.segment = segment  # as given (dumps) or canonical (/name)
        self.shown = escape_line(segment)

    def entry(self, entry: Entry) -> None:
        self.out.write((entry_json(entry) if self.json else entry_text(entry)) + "\n")

    def gap(self, lost: int, position: int) -> None:
        last = position
        first = position if lost == 0 or lost > position else position - lost + 1
        message = describe_gap(lost, first, last)
        if self.json:
            line = json_line(
                {"type": "gap", "lost": lost, "first_seq": first, "last_seq": last,
                 "message": message}
            )
        else:
            line = f"--- {message} ---"
        self.out.write(line + "\n")

    def event(self, kind: str, describe: Callable[[str], str], pid: int = 0,
              incarnation: int = 0, count: int = 0) -> None:
        """`describe(name)` words the event around the segment name (escaped in text)."""
        if self.json:
            obj: Dict[str, Any] = {"type": "event", "event": kind,
                                   "segment": json_string(self.segment)}
            if pid:
                obj["pid"] = pid
            if incarnation:
                obj["incarnation"] = f"{incarnation:016x}"
            if count:
                obj["count"] = count
            obj["message"] = json_string(describe(self.segment))
            self.out.write(json_line(obj) + "\n")
            return
        self.out.flush()  # entries before the event appear before it on a shared terminal
        self.err.write(f"=== {escape_line(describe(self.segment))} ===\n")
        self.err.flush()

    def flush(self) -> None:
        self.out.flush()


class CorruptReports:
    """At most one corrupt event per second, each counting the corrupt reads it covers."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.next_report = 0.0
        self.pending = 0
        self.detail = ""

    def hit(self, detail: str) -> None:
        self.pending += 1
        self.detail = detail
        self.report(False)

    def report(self, force: bool) -> None:
        """What is pending, when a second has passed since the last report (or `force`)."""
        if not self.pending:
            return
        now = time.monotonic()
        if not force and now < self.next_report:
            return
        count, detail = self.pending, self.detail
        suffix = f" ({count} corrupt reads)" if count > 1 else ""
        self.output.event(
            "corrupt",
            lambda name: f"corrupt data skipped in segment {name}: {detail}{suffix}",
            count=count,
        )
        self.pending = 0
        self.next_report = now + CORRUPT_REPORT_INTERVAL


# -- options ---------------------------------------------------------------------------------
def whole_number(parser: argparse.ArgumentParser, option: str, value: str) -> int:
    """0 .. 2^64 - 1 in plain ASCII digits; anything else is a usage error naming the option."""
    if value.isascii() and value.isdigit() and int(value) <= U64_MAX:
        return int(value)
    parser.error(
        f'{option}: expected a whole number from 0 to {U64_MAX}, got "{escape_line(value)}"'
    )
    raise AssertionError  # parser.error exits


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return str(uid)


# -- the tail ----------------------------------------------------------------------------------
class Tail:
    def __init__(self, reader: Reader, args: argparse.Namespace, output: Output, live: bool) -> None:
        self.reader = reader
        self.args = args
        self.output = output
        self.live = live  # a named segment (not a dump): liveness, owner, restarts
        self.follow = live and not args.no_follow
        self.corrupt = CorruptReports(output)
        self.reported = Liveness.ALIVE
        self.pid = 0
        self.incarnation = 0
        self.warned_owners: List[int] = []
        self.refresh()

    def refresh(self) -> None:
        """After (re-)attaching: who writes this segment now."""
        info = self.reader.extension()
        self.pid = info.writer_pid if info is not None else 0
        self.incarnation = info.incarnation if info is not None else 0
        self.reported = Liveness.ALIVE
        if not self.live:
            return
        owner = self.reader.owner_uid
        me = os.geteuid()
        if owner is not None and owner != me and owner not in self.warned_owners:
            self.warned_owners.append(owner)
            self.output.flush()
            sys.stderr.write(
                f"warning: segment {self.output.shown} is owned by user "
                f"{escape_line(owner_name(owner))} (uid {owner}), not by you (uid {me})\n"
            )
            sys.stderr.flush()

    def event(self, kind: str, describe: Callable[[str], str]) -> None:
        self.output.event(kind, describe, self.pid, self.incarnation)

    def check_writer(self) -> None:
        """Reports the writer gone or closed, once per incarnation."""
        if not self.live or self.reader.truncated:
            return
        info = self.reader.extension()
        state = self.reader.liveness()
        if state in (Liveness.UNKNOWN, Liveness.ALIVE) or state is self.reported:
            return
        self.reported = state
        pid = self.pid
        if state is Liveness.CLOSED:
            self.event("writer_closed",
                       lambda name: f"writer closed: process {pid} shut segment {name} down cleanly")
            return
        detail = ""
        if info is not None and info.heartbeat_unix_ns:
            age = time.time_ns() - info.heartbeat_unix_ns
            if age > 0:
                detail = f"; last heartbeat {age / 1e9:.1f} s ago"
        self.event(
            "writer_gone",
            lambda name: f"writer gone: process {pid} of segment {name} no longer exists (it did "
            f"not close the segment: crashed or killed){detail}",
        )

    def run(self) -> int:
        reader = self.reader
        output = self.output
        limit = self.args.max
        shown = 0
        # The writer's end is said once per incarnation, when the tail has caught up with it.
        next_liveness = 0.0
        ending_at: Optional[float] = None
        while True:
            batch = reader.read_batch()
            status = batch.status
            if status is Status.OK:
                for entry in batch.entries:
                    output.entry(entry)
                    shown += 1
                    if limit and shown >= limit:
                        return self.finish(EXIT_OK)
                continue
            if status is Status.LAPPED:
                output.gap(batch.lost, reader.position)
                continue
            if status is Status.CORRUPT:
                self.corrupt.hit(batch.detail)
                continue
            if status is Status.WRITER_RESTARTED:
                self.refresh()
                ending_at = None
                next_liveness = 0.0
                incarnation, pid = self.incarnation, self.pid
                self.event(
                    "writer_restarted",
                    lambda name: f"writer restarted: segment {name} was re-created (new "
                    f"incarnation {incarnation:016x}{f', pid {pid}' if pid else ''}); re-attached "
                    "at its oldest entry, sequence numbers restart",
                )
                # The restart gap (entries 1..k overwritten before the tail found the new
                # incarnation) is the reader's next result: a LAPPED read, shown as a gap.
                continue
            if status is Status.SEGMENT_TRUNCATED:
                self.truncated_event()
                if not self.follow:
                    return self.finish(EXIT_FAILURE)
                continue
            if status is Status.ATTACHED:
                pid = self.pid
                self.event(
                    "attached",
                    lambda name: f"attached to segment {name}{f' (writer pid {pid})' if pid else ''}",
                )
                continue
            # no data
            self.corrupt.report(False)
            output.flush()
            if not self.follow:
                self.corrupt.report(True)
                self.check_writer()
                return self.finish(EXIT_OK)
            now = time.monotonic()
            if ending_at is not None and now >= ending_at:
                return self.finish(EXIT_OK)
            if now >= next_liveness:
                next_liveness = now + LIVENESS_INTERVAL
                self.check_writer()
                if (
                    self.args.exit_on_close
                    and ending_at is None
                    and self.reported in (Liveness.GONE, Liveness.CLOSED)
                ):
                    # One more pass first, and time for a restarting writer's new segment.
                    ending_at = now + 2 * reader.replaced_check_interval
                    continue
            time.sleep(POLL_INTERVAL)

    def truncated_event(self) -> None:
        reader = self.reader
        mapped = reader.mapped_size
        try:
            now = os.lstat("/dev/shm" + reader.name).st_size if reader.name else -1
        except OSError:
            now = -1
        size = f"{now} bytes" if now >= 0 else "removed"
        self.event(
            "segment_truncated",
            lambda name: f"segment {name} was truncated under the reader: its file is now "
            f"{size}, {mapped} bytes were mapped; the entries read so far stand",
        )

    def finish(self, code: int) -> int:
        self.corrupt.report(True)
        self.output.flush()
        return code


def open_reader(args: argparse.Namespace, following: bool) -> Reader:
    if args.file:
        return Reader.from_file(args.name, args.start)
    give_up = time.monotonic() + (MISSING_GRACE if following else 0)
    while True:
        try:
            return Reader.open(args.name, args.start)
        except (SegmentNotFoundError, NotALogError):
            # A writer started a moment ago may not have created (or formatted) it yet.
            if time.monotonic() >= give_up:
                raise
            time.sleep(0.02)


def error_code(e: BaseException) -> int:
    if isinstance(e, InvalidNameError):
        return EXIT_USAGE
    if isinstance(e, (SegmentNotFoundError, FileNotFoundError)):
        return EXIT_MISSING
    if isinstance(e, AttachError):
        return EXIT_NOT_LOG
    return EXIT_FAILURE


def error_message(e: BaseException, name: str, is_file: bool) -> str:
    if isinstance(e, AttachError) and not str(e).startswith("'"):
        what = f"'{name}'" if is_file else f"segment '{name if name.startswith('/') else '/' + name}'"
        return f"{what} is not a readable log: {e.status} ({e.detail})"
    if isinstance(e, OSError) and not isinstance(e, OuroborosError):
        return f"cannot read '{name}': {e.strerror or e}"
    return str(e)


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Print the entries of an Ouroboros ring log segment (or a dumped buffer). "
        "Entries and gap markers go to stdout; events (writer gone, closed or restarted, "
        "corruption, a truncated segment) to stderr, or to stdout as JSON objects with --json.",
        epilog="Exit codes: 0 ok, 1 runtime failure, 2 bad command line, 3 segment missing, "
        "4 not a readable log segment.",
    )
    parser.add_argument("name", help="segment name (/dev/shm/NAME), or a file with --file")
    parser.add_argument("--file", action="store_true", help="NAME is a dumped buffer file")
    parser.add_argument("--start", choices=[s.value for s in Start], default="oldest")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--no-follow", action="store_true", help="print what is there now and exit"
    )
    parser.add_argument(
        "--exit-on-close",
        action="store_true",
        help="following: exit once the writer has closed the segment or died and everything "
        "it wrote has been read",
    )
    parser.add_argument("--max", default="0", help="stop after this many entries (0 = no limit)")
    args = parser.parse_args(argv)
    args.max = whole_number(parser, "--max", args.max)

    for stream in (out, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="backslashreplace")

    following = not (args.file or args.no_follow)
    try:
        reader = open_reader(args, following)
    except (OuroborosError, OSError) as e:
        sys.stderr.write(
            f"ouroboros_reader: error: {escape_line(error_message(e, args.name, args.file))}\n"
        )
        return error_code(e)
    segment = args.name if args.file else (reader.name or args.name)
    output = Output(out, sys.stderr, args.json, segment)
    previous = signal.getsignal(signal.SIGTERM)
    if out is sys.stdout:
        signal.signal(signal.SIGTERM, _stop)
    try:
        with reader:
            return Tail(reader, args, output, live=not args.file).run()
    except KeyboardInterrupt:
        try:
            output.flush()
        except BrokenPipeError:
            _quiet_stdout()
        return EXIT_OK
    except BrokenPipeError:
        _quiet_stdout()  # the reader of our output went away (e.g. `| head`)
        return EXIT_OK
    finally:
        if out is sys.stdout:
            signal.signal(signal.SIGTERM, previous)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _quiet_stdout() -> None:
    # Python flushes stdout again at exit; with the pipe gone that would print a traceback.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
