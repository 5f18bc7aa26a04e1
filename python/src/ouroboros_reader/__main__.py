"""python -m ouroboros_reader: tail a segment (or print a dumped buffer) as text or JSON lines.

Follows the tail contract of docs/tools.md, whose reference is `ouroboros-cli tail` (the CLI's
tools/lib/src/entry_format.cpp and follower.cpp): the same entry lines, gap markers, events and
escaping, byte for byte (python/tests/test_tail_parity.py compares the three tails). Entries and
gap markers go to stdout; events (attached, writer_restarted, writer_gone, writer_closed,
corrupt, segment_truncated) to stderr as `=== ... ===` lines in text mode, or to stdout as JSON
objects in JSON mode; the CLI's exit codes (0 ok, 1 runtime failure, 2 usage, 3 segment missing,
4 not a readable log).
"""

import argparse
import json.encoder
import os
import pwd
import signal
import sys
import time
from typing import Callable, Dict, List, NoReturn, Optional, TextIO, Tuple

from ._errors import (
    AttachError,
    InvalidNameError,
    NotALogError,
    NotARegularFileError,
    OuroborosError,
    SegmentNotFoundError,
)
from . import __version__
from ._ring import FORMAT_VERSION
from .reader import Entry, Kind, Liveness, Reader, Start, Status
from .records import VERSION as RECORD_VERSION
from .records import FieldType

PROG = "python -m ouroboros_reader"
PROGRAM = "ouroboros_reader"  # the prefix of warnings and errors ("ouroboros-cli: ..." in the CLI)
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_MISSING, EXIT_NOT_LOG = 0, 1, 2, 3, 4
U64_MAX = (1 << 64) - 1
POLL_INTERVAL = 0.005  # sleep between polls when there is no data (as the CLI)
LIVENESS_INTERVAL = 0.25  # how often an idle tail asks whether the writer is done (as the CLI)
MISSING_GRACE = 2.0  # following: a writer started a moment ago gets this long to create the name
CORRUPT_REPORT_INTERVAL = 1.0  # at most one corrupt event per second
REOPEN_INTERVAL = 0.1  # a truncated segment: how often the name is opened again

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
# Field values in quotes: '"', '\' and LF by backslash, the rest as on one line.
_QUOTED_ESCAPES = dict(_LINE_ESCAPES)
_QUOTED_ESCAPES.update({0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n"})
# JSON strings: '"' and '\' as usual, LF/CR/TAB by name, every other C0 control, DEL and the C1
# controls as \u00NN (json.dumps would name \b and \f and leave DEL and C1 raw); a byte that is
# not valid UTF-8 becomes U+FFFD.
_JSON_ESCAPES: Dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_JSON_ESCAPES.update({c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)})
_JSON_ESCAPES.update({0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})
_JSON_ESCAPES.update({0xDC00 + b: "\ufffd" for b in range(0x80, 0x100)})


def escape_text(text: str) -> str:
    """A message: multi-line."""
    # isprintable() is false for every character the table changes (and a few it leaves alone).
    return text if text.isprintable() else text.translate(_TEXT_ESCAPES)


def escape_line(text: str) -> str:
    """Anything that must stay on one line."""
    return text if text.isprintable() else text.translate(_LINE_ESCAPES)


# The C encoder escapes '"', '\' and the C0 controls (\b and \f by name): right for any text
# without control characters, DEL, C1 or invalid bytes, which is what isprintable() vouches for.
_json_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def json_string(text: str) -> str:
    """`text` as a JSON string, quotes included."""
    if text.isprintable():
        return _json_str(text)
    return f'"{text.translate(_JSON_ESCAPES)}"'


def field_value(value: str) -> str:
    """Values that are empty or hold a space, TAB, LF, '"' or '=' are quoted, so key=value pairs
    stay parseable (the CLI's append_field_value)."""
    if value and not any(c in value for c in ' \t\n"='):
        return escape_line(value)
    return f'"{value.translate(_QUOTED_ESCAPES)}"'


def as_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# -- entries and gaps ------------------------------------------------------------------------
_LEVEL_NAMES = ("trace", "debug", "info", "warn", "error", "critical")
_LEVEL_LABELS = ("TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "CRIT ")
_LEVEL_COLORS = ("\x1b[2m", "\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1;37;41m")
RESET, DIM = "\x1b[0m", "\x1b[2m"
NO_TIME = "(no time)                 "  # as wide as a time


class TextFormat:
    """The CLI's text line (format_text): [#SEQ] TIME LEVEL TAG [THREAD] MESSAGE k=v ..."""

    def __init__(self, utc: bool = False, seq: bool = False, color: bool = False) -> None:
        self.utc = utc
        self.seq = seq
        self.color = color
        self._second = -1
        self._second_text = ""

    def time(self, unix_ns: int) -> str:
        """YYYY-MM-DD HH:MM:SS.uuuuuu, local time (or UTC); one strftime per second."""
        second, nanos = divmod(unix_ns, 1_000_000_000)
        if second != self._second:
            parts = time.gmtime(second) if self.utc else time.localtime(second)
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", parts)
            self._second = second
        return f"{self._second_text}.{nanos // 1000:06d}"

    def entry(self, entry: Entry) -> str:
        color = self.color
        parts: List[str] = []
        if self.seq:
            parts.append(f"{DIM}#{entry.seq} {RESET}" if color else f"#{entry.seq} ")
        record = entry.record
        if record is not None:
            unix_ns = entry.unix_ns
            when = self.time(unix_ns) if unix_ns else NO_TIME
            level = int(record.level)
            tag = record.tag
            pad = " " * (8 - len(tag.encode("utf-8", "surrogateescape")))
            if color:
                parts.append(
                    f"{DIM}{when}{RESET} {_LEVEL_COLORS[level]}{_LEVEL_LABELS[level]}{RESET} "
                    f"\x1b[35m{escape_line(tag)}{pad}{RESET} [{record.thread}] "
                )
            else:
                parts.append(
                    f"{when} {_LEVEL_LABELS[level]} {escape_line(tag)}{pad} [{record.thread}] "
                )
            parts.append(escape_text(record.message))
            if record.truncated:
                parts.append(" [truncated]")
            for key, value in record.fields:
                if color:
                    parts.append(f" {DIM}{escape_line(key)}={RESET}{field_value(value)}")
                else:
                    parts.append(f" {escape_line(key)}={field_value(value)}")
        else:
            if entry.kind is Kind.MALFORMED:
                malformed = f"[malformed record: {entry.error}] "
                parts.append(f"\x1b[31m{malformed}{RESET}" if color else malformed)
            parts.append(escape_text(as_text(entry.payload)))
        parts.append("\n")
        return "".join(parts)

    def gap(self, message: str) -> str:
        if self.color:
            return f"\x1b[1;33m--- {message} ---{RESET}\n"
        return f"--- {message} ---\n"


_json_second = [-1, ""]  # the last second formatted for JSON: one strftime per second


def time_json(unix_ns: int) -> str:
    """2024-05-01T12:34:56.123456789Z (UTC, nanoseconds)."""
    second, nanos = divmod(unix_ns, 1_000_000_000)
    if second != _json_second[0]:
        _json_second[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _json_second[0] = second
    return f"{_json_second[1]}.{nanos:09d}Z"


def _json_field_value(kind: FieldType, text: str) -> str:
    """Numbers and bools bare (the decoder checked their text is JSON), the rest, the non-finite
    floats included, as JSON strings: as the C++ tail."""
    if kind in (FieldType.I64, FieldType.U64, FieldType.BOOL):
        return text
    if kind == FieldType.F64 and "i" not in text and "n" not in text:
        return text
    return json_string(text)


def entry_json(entry: Entry) -> str:
    """The CLI's entry object (format_json), keys in its order: type, seq, time, time_ns, level,
    tag, thread, message, binary, malformed, truncated, fields (each only where it applies)."""
    parts = ['{"type":"entry","seq":', str(entry.seq)]
    record = entry.record
    if record is not None:
        unix_ns = entry.unix_ns
        if unix_ns:
            parts.append(f',"time":"{time_json(unix_ns)}","time_ns":{unix_ns}')
        parts.append(
            f',"level":"{_LEVEL_NAMES[record.level]}","tag":{json_string(record.tag)},'
            f'"thread":{record.thread},"message":{json_string(record.message)}'
        )
        if record.truncated:
            parts.append(',"truncated":true')
        if record.fields:
            parts.append(',"fields":{')
            parts.append(
                ",".join(
                    f"{json_string(k)}:{_json_field_value(t, v)}"
                    for (k, v), t in zip(record.fields, record.field_types)
                )
            )
            parts.append("}")
    else:
        payload = entry.payload
        parts.append(f',"message":{json_string(as_text(payload))}')
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            parts.append(',"binary":true')
        if entry.kind is Kind.MALFORMED:
            parts.append(f',"malformed":{json_string(entry.error or "")}')
    parts.append("}\n")
    return "".join(parts)


def describe_gap(lost: int, first: int, last: int) -> str:
    if lost == 1:
        return f"1 entry overwritten, seq {first}"
    return f"{lost} entries overwritten, seq {first}\u2013{last}"


def gap_from_lapped(lost: int, position: int) -> Tuple[int, int]:
    """(first, last) of a lapped read: `position` is the sequence number after the jump."""
    return (position if lost == 0 or lost > position else position - lost + 1), position


def stream_wants_color(mode: str, stream: TextIO) -> bool:
    """--color auto: on a terminal, unless NO_COLOR is set or TERM is dumb (as the CLI)."""
    if mode != "auto":
        return mode == "always"
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


# -- events ------------------------------------------------------------------------------------
class Event:
    """A segment event: kind, the writer as known (pid, incarnation: 0 when unknown), a detail
    and, for corrupt events, the corrupt reads it covers."""

    __slots__ = ("kind", "segment", "pid", "incarnation", "detail", "count")

    def __init__(self, kind: str, segment: str, pid: int, incarnation: int, detail: str = "",
                 count: int = 0) -> None:
        self.kind = kind
        self.segment = segment
        self.pid = pid
        self.incarnation = incarnation
        self.detail = detail
        self.count = count

    def message(self) -> str:
        """The CLI's describe_event, word for word."""
        kind, name, pid = self.kind, self.segment, self.pid
        if kind == "attached":
            return f"attached to segment {name}" + (f" (writer pid {pid})" if pid else "")
        if kind == "writer_restarted":
            return (
                f"writer restarted: segment {name} was re-created (new incarnation "
                f"{self.incarnation:016x}{f', pid {pid}' if pid else ''}); re-attached at its "
                "oldest entry, sequence numbers restart"
            )
        if kind == "writer_gone":
            return (
                f"writer gone: process {pid} of segment {name} no longer exists (it did not close "
                f"the segment: crashed or killed){'; ' + self.detail if self.detail else ''}"
            )
        if kind == "writer_closed":
            return f"writer closed: process {pid} shut segment {name} down cleanly"
        if kind == "corrupt":
            count = f" ({self.count} corrupt reads)" if self.count > 1 else ""
            return f"corrupt data skipped in segment {name}: {self.detail}{count}"
        return (
            f"segment {name} was truncated: another process shrank it under the reader; the "
            f"entries read so far stand{'; ' + self.detail if self.detail else ''}"
        )

    def json(self) -> str:
        parts = [f'{{"type":"event","event":"{self.kind}","segment":{json_string(self.segment)}']
        if self.pid:
            parts.append(f',"pid":{self.pid}')
        if self.incarnation:
            parts.append(f',"incarnation":"{self.incarnation:016x}"')
        if self.count:
            parts.append(f',"count":{self.count}')
        parts.append(f',"message":{json_string(self.message())}}}\n')
        return "".join(parts)


class Output:
    """Where everything goes: entries and gaps to `out`; events to `err` as text lines, or to
    `out` as JSON objects in JSON mode. Lines are written in batches; `flush` when idle."""

    def __init__(self, out: TextIO, err: TextIO, json_mode: bool, text: TextFormat,
                 err_color: bool) -> None:
        self.out = out
        self.err = err
        self.json = json_mode
        self.text = text
        self.err_color = err_color

    def entry(self, entry: Entry) -> None:
        self.out.write(entry_json(entry) if self.json else self.text.entry(entry))

    def gap(self, lost: int, first: int, last: int) -> None:
        message = describe_gap(lost, first, last)
        if self.json:
            self.out.write(
                f'{{"type":"gap","lost":{lost},"first_seq":{first},"last_seq":{last},'
                f'"message":{json_string(message)}}}\n'
            )
        else:
            self.out.write(self.text.gap(message))

    def event(self, event: Event) -> None:
        if self.json:
            self.out.write(event.json())
            return
        self.out.flush()  # entries before the event appear before it on a shared terminal
        line = f"=== {escape_line(event.message())} ==="
        if self.err_color:
            line = f"\x1b[1;36m{line}{RESET}"
        self.err.write(line + "\n")
        self.err.flush()

    def flush(self) -> None:
        self.out.flush()


# -- options ---------------------------------------------------------------------------------
class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage, then "ouroboros_reader: error: ..." like every other error; exit 2."""
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{PROGRAM}: error: {escape_line(message)}\n")
        sys.exit(EXIT_USAGE)


def whole_number(parser: argparse.ArgumentParser, option: str, value: str) -> int:
    """0 .. 2^64 - 1 in plain ASCII digits; anything else is a usage error naming the option."""
    if value.isascii() and value.isdigit() and int(value) <= U64_MAX:
        return int(value)
    parser.error(f'{option}: expected a whole number from 0 to {U64_MAX}, got "{value}"')


def owner_name(uid: int) -> str:
    try:
        return escape_line(pwd.getpwuid(uid).pw_name)
    except (KeyError, OverflowError):
        return str(uid)


def is_transient(error: BaseException) -> bool:
    """Missing, or created but not formatted yet: a writer may be making it right now."""
    return isinstance(error, (SegmentNotFoundError, NotALogError))


# -- the tail ----------------------------------------------------------------------------------
class Stop(Exception):
    """--max reached: end at once (nothing pending is reported, as the CLI)."""


class Tail:
    """The CLI's segment_follower and run_tail: entries, gaps and events of one segment; the
    writer's end said once per incarnation; a truncated segment re-opened when following."""

    def __init__(self, reader: Reader, args: argparse.Namespace, output: Output, segment: str,
                 live: bool) -> None:
        self.reader = reader
        self.args = args
        self.output = output
        self.segment = segment  # canonical name (/name), or the dump's path
        self.live = live  # a named segment (not a dump): liveness, owner, restarts
        self.follow = live and not args.no_follow
        self.limit = args.max
        self.shown = 0
        self.pid = 0
        self.incarnation = 0
        self.reported = Liveness.ALIVE
        self.next_liveness = 0.0
        self.warned_owner: Optional[int] = None
        # Sequence number of the last entry delivered or reported lost (this incarnation).
        self.last_seq = 0
        # After re-opening a truncated segment: the sequence number the next entry or gap should
        # start at (0: no expectation). Earlier ones were shown already; a later start is a gap.
        self.expect_next = 0
        self.corrupt_pending = 0
        self.corrupt_detail = ""
        self.next_corrupt = 0.0
        self.refresh()
        self.check_owner()

    # -- state of the writer ------------------------------------------------------------------
    def refresh(self) -> None:
        """After (re-)attaching: who writes this segment now."""
        info = self.reader.extension()
        self.pid = info.writer_pid if info is not None else 0
        self.incarnation = info.incarnation if info is not None else 0
        self.reported = Liveness.ALIVE
        self.next_liveness = time.monotonic()

    def check_owner(self) -> None:
        """Warned once per owner, again only when the owner changed (after a restart)."""
        if not self.live:
            return
        owner = self.reader.owner_uid
        me = os.geteuid()
        if owner is None or owner == me or owner == self.warned_owner:
            return
        self.warned_owner = owner
        self.output.flush()
        sys.stderr.write(
            f"{PROGRAM}: warning: segment {escape_line(self.segment)} is owned by user "
            f"{owner_name(owner)} (uid {owner}), not by you (uid {me})\n"
        )
        sys.stderr.flush()

    def event(self, kind: str, detail: str = "", count: int = 0) -> None:
        self.output.event(Event(kind, self.segment, self.pid, self.incarnation, detail, count))

    def writer_end(self, reader: Reader) -> Optional[Liveness]:
        """The writer gone or closed, reported once per incarnation (None: nothing new)."""
        info = reader.extension()
        state = reader.liveness()
        if state in (Liveness.UNKNOWN, Liveness.ALIVE) or state is self.reported:
            return None
        self.reported = state
        if state is Liveness.CLOSED:
            self.event("writer_closed")
            return state
        detail = ""
        if info is not None and info.heartbeat_unix_ns:
            age = time.time_ns() - info.heartbeat_unix_ns
            if age > 0:
                detail = f"last heartbeat {age / 1e9:.1f} s ago"
        self.event("writer_gone", detail)
        return state

    def check_writer(self) -> None:
        self.next_liveness = time.monotonic() + LIVENESS_INTERVAL
        if self.live:
            self.writer_end(self.reader)

    # -- corruption -----------------------------------------------------------------------------
    def report_corrupt(self, force: bool) -> None:
        """What is pending, once a second has passed since the last report (or `force`)."""
        if not self.corrupt_pending:
            return
        now = time.monotonic()
        if not force and now < self.next_corrupt:
            return
        count, self.corrupt_pending = self.corrupt_pending, 0
        self.next_corrupt = now + CORRUPT_REPORT_INTERVAL
        self.event("corrupt", self.corrupt_detail, count)

    # -- data -----------------------------------------------------------------------------------
    def gap(self, first: int, last: int) -> None:
        self.last_seq = last
        self.output.gap(last - first + 1 if first <= last else 0, first, last)

    def entries(self, entries: List[Entry]) -> None:
        output = self.output
        limit = self.limit
        for entry in entries:
            seq = entry.seq
            if self.expect_next:
                expected, self.expect_next = self.expect_next, 0
                if seq < expected:
                    self.expect_next = expected  # shown before the segment was truncated
                    continue
                if seq > expected:
                    self.gap(expected, seq - 1)
            self.last_seq = seq
            output.entry(entry)
            self.shown += 1
            if limit and self.shown >= limit:
                raise Stop

    def lapped(self, lost: int) -> None:
        first, last = gap_from_lapped(lost, self.reader.position)
        if self.expect_next:
            expected, self.expect_next = self.expect_next, 0
            if last < expected:
                self.expect_next = expected
                return
            first = expected
            lost = last - first + 1
        self.last_seq = last
        self.output.gap(lost, first, last)

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> int:
        try:
            return self._run()
        except Stop:
            self.output.flush()
            return EXIT_OK

    def _run(self) -> int:
        output = self.output
        ending_at: Optional[float] = None
        while True:
            batch = self.reader.read_batch()
            status = batch.status
            if status is Status.OK:
                self.entries(batch.entries)
                continue
            if status is Status.LAPPED:
                self.lapped(batch.lost)
                continue
            if status is Status.CORRUPT:
                self.corrupt_pending += 1
                self.corrupt_detail = batch.detail
                self.report_corrupt(False)
                continue
            if status is Status.WRITER_RESTARTED:
                ending_at = None
                self.last_seq = 0
                self.expect_next = 0
                self.refresh()
                output.flush()
                self.check_owner()
                self.event("writer_restarted")
                # The new incarnation's entries before its oldest one were overwritten before
                # the reader found it: the reader's next result is that gap (1..k).
                continue
            if status is Status.SEGMENT_TRUNCATED:
                self.report_corrupt(True)
                self.event("segment_truncated",
                           "waiting for it to be restored or re-created" if self.follow else "")
                output.flush()
                if not self.follow:
                    # What was read stands, but the rest of the log could not be read.
                    return EXIT_FAILURE
                ending_at = None
                end = self.reopen_after_truncation()
                if end is not None:
                    return end
                continue
            if status is Status.ATTACHED:
                continue  # the reader's own re-attach; the tail re-opens the name itself
            # no data
            self.report_corrupt(False)
            output.flush()
            if not self.follow:
                # Everything there was has been read: say how the writer ended, if it did.
                self.report_corrupt(True)
                self.check_writer()
                output.flush()
                return EXIT_OK
            now = time.monotonic()
            # The writer ended and everything written before that has been read. A restarting
            # writer closes its old segment before creating the new one: the grace period lets
            # the reader notice the new one first (a restart clears it).
            if ending_at is not None and now >= ending_at:
                self.report_corrupt(True)
                output.flush()
                return EXIT_OK
            if now >= self.next_liveness:
                self.check_writer()
                output.flush()
                ended = self.reported is not Liveness.ALIVE
                if self.args.exit_on_close and ended and ending_at is None:
                    # One more pass first: entries written just before the close are still to be
                    # read.
                    ending_at = now + 2 * self.reader.replaced_check_interval
                    continue
            time.sleep(POLL_INTERVAL)

    def reopen_after_truncation(self) -> Optional[int]:
        """Lets the truncated mapping go and opens the name every 100 ms until it is a readable
        segment again: the same incarnation restored to at least its old size (reading resumes
        after the last entry shown; what was written meanwhile is a gap), or a new incarnation (a
        restart, with a gap from 1). Meanwhile the writer's end is still said once (the header
        survives a shrink), and ends the tail under --exit-on-close. None once attached again,
        else the exit status."""
        old = self.reader
        old_incarnation = self.incarnation
        old_size = old.mapped_size
        old.close()
        while True:
            time.sleep(REOPEN_INTERVAL)
            try:
                fresh = Reader.open(old.name or self.segment, Start.OLDEST)
            except (OuroborosError, OSError):
                continue  # missing, half-written, not a log (yet): it may become one again
            info = fresh.extension()
            same = (info.incarnation if info is not None else 0) == old_incarnation
            if fresh.truncated or (same and fresh.mapped_size < old_size):
                # Still shrunk (the same segment, smaller than it was), or shrinking again.
                if same and not fresh.truncated:
                    ended = self.writer_end(fresh)
                    if ended is not None:
                        self.output.flush()
                        if self.args.exit_on_close:
                            fresh.close()
                            return EXIT_OK
                fresh.close()
                continue
            self.reader = fresh
            reported = self.reported
            self.refresh()
            self.output.flush()
            self.check_owner()
            if same:
                # Restored: what the writer wrote meanwhile into its private pages reached no
                # reader, and comes out as a gap. Its end, if reported while shrunk, is not news.
                self.reported = reported
                self.expect_next = self.last_seq + 1
                self.event("attached")
                return None
            self.last_seq = 0
            self.expect_next = 1  # everything of the new incarnation before its oldest entry
            self.event("writer_restarted")
            return None


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


_STATUS_TEXT = {
    "not_a_log": "not a log buffer",
    "unsupported_version": "unsupported format version",
    "corrupt": "corrupt buffer",
}


def error_message(e: BaseException, name: str, is_file: bool) -> str:
    """The CLI's words: "segment '/NAME' is not a readable log: not a log buffer (DETAIL)"."""
    if isinstance(e, AttachError) and not isinstance(e, NotARegularFileError):
        canonical = name if name.startswith("/") else "/" + name
        what = f"'{name}'" if is_file else f"segment '{canonical}'"
        return f"{what} is not a readable log: {_STATUS_TEXT.get(e.status, e.status)} ({e.detail})"
    if isinstance(e, OSError) and not isinstance(e, OuroborosError):
        return f"cannot read '{name}': {e.strerror or e}"
    return str(e)


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    parser = ArgumentParser(
        prog=PROG,
        description="Print the entries of an Ouroboros ring log segment (or a dumped buffer), "
        "as `ouroboros-cli tail` does. Entries and gap markers go to stdout; events (writer "
        "gone, closed or restarted, corruption, a truncated segment) to stderr, or to stdout "
        "as JSON objects with --json.",
        epilog="Exit codes: 0 ok, 1 runtime failure, 2 bad command line, 3 segment missing, "
        "4 not a readable log segment.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROGRAM} {__version__} (ring format version {FORMAT_VERSION}, "
        f"record encoding version {RECORD_VERSION})",
    )
    parser.add_argument("name", help="segment name (/dev/shm/NAME), or a file with --file")
    parser.add_argument("--file", action="store_true", help="NAME is a dumped buffer file")
    parser.add_argument("--start", choices=[s.value for s in Start], default="oldest")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--no-follow", action="store_true", help="print what is there now and exit")
    parser.add_argument(
        "--exit-on-close",
        action="store_true",
        help="following: exit once the writer has closed the segment or died and everything "
        "it wrote has been read",
    )
    parser.add_argument("--max", default="0", help="stop after this many entries (0 = no limit)")
    parser.add_argument("--utc", action="store_true",
                        help="show times in UTC instead of local time")
    parser.add_argument("--seq", action="store_true",
                        help="prefix each entry with its sequence number")
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour the text format: auto (on a terminal), always, never",
    )
    args = parser.parse_args(argv)
    args.max = whole_number(parser, "--max", args.max)

    for stream in (out, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # Text is escaped already; surrogates only ever carry the bytes of invalid UTF-8.
            reconfigure(encoding="utf-8", errors="surrogateescape")

    following = not (args.file or args.no_follow)
    try:
        reader = open_reader(args, following)
    except (OuroborosError, OSError) as e:
        sys.stderr.write(
            f"{PROGRAM}: error: {escape_line(error_message(e, args.name, args.file))}\n"
        )
        return error_code(e)
    segment = args.name if args.file else (reader.name or args.name)
    text = TextFormat(args.utc, args.seq, not args.json and stream_wants_color(args.color, out))
    err_color = not args.json and stream_wants_color(args.color, sys.stderr)
    output = Output(out, sys.stderr, args.json, text, err_color)
    previous = signal.getsignal(signal.SIGTERM)
    if out is sys.stdout:
        signal.signal(signal.SIGTERM, _stop)
    tail: Optional[Tail] = None
    try:
        tail = Tail(reader, args, output, segment, live=not args.file)
        return tail.run()
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
        (tail.reader if tail is not None else reader).close()
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
