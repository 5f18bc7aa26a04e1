"""The extension block: writer identity, liveness, payload encoding and clock calibration
(docs/format.md sections 9 and 10). All reads are single aligned loads from the Words views.

Thread-safety: stateless functions.
"""

import errno
import os
import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ._ring import BUFFER_MAGIC, HEADER_SIZE, ROW_SIZE, Words

EXT_MAGIC = 0x3158454F52554F00
EXT_MIN_SIZE = 112
FLAG_CLOSED = 1
ENCODING_RAW = 0
ENCODING_RECORD = 1
IDENTITY_CLOCK = (0, 0, 1 << 32)
START_TIME_TOLERANCE_NS = 2_000_000_000


@dataclass(frozen=True)
class ExtensionInfo:
    """A snapshot of the extension block (the live fields as of the read)."""

    writer_pid: int
    writer_start_unix_ns: int
    incarnation: int
    heartbeat_unix_ns: int
    payload_encoding: int
    flags: int
    chunk_target_size: int

    @property
    def closed(self) -> bool:
        return bool(self.flags & FLAG_CLOSED)

    @property
    def records(self) -> bool:
        return self.payload_encoding == ENCODING_RECORD


def locate(words: Words) -> Optional[int]:
    """Word index (u64) of a well-formed block, or None (C++ extension.cpp: locate)."""
    if words.size < HEADER_SIZE or words.u64[0] != BUFFER_MAGIC:
        return None
    count = words.u32[3]
    at = (HEADER_SIZE + ROW_SIZE * count + 7) & ~7
    if count == 0 or words.size < at + EXT_MIN_SIZE:
        return None
    base = at >> 3
    if words.u64[base] != EXT_MAGIC:
        return None
    size = words.u32[(at + 8) >> 2]
    if size < EXT_MIN_SIZE or size > words.size - at or size % 8 != 0:
        return None
    return base


def read_extension(words: Words) -> Optional[ExtensionInfo]:
    base = locate(words)
    if base is None:
        return None
    u64 = words.u64
    u32 = words.u32
    return ExtensionInfo(
        writer_pid=u64[base + 2],
        writer_start_unix_ns=u64[base + 3],
        incarnation=u64[base + 4],
        heartbeat_unix_ns=u64[base + 5],
        payload_encoding=u32[base * 2 + 12],
        flags=u32[base * 2 + 13],
        chunk_target_size=u64[base + 7],
    )


def clock_seq(words: Words, base: int) -> int:
    return words.u64[base + 8]


def read_clock(words: Words, base: int) -> Optional[Tuple[int, int, int]]:
    """(tick_base, wall_base_ns, mult) via the seqlock; None if the writer keeps updating it."""
    u64 = words.u64
    for _ in range(64):
        before = u64[base + 8]
        if before % 2:
            continue
        tick_base = u64[base + 9]
        wall_base = u64[base + 10]
        mult = u64[base + 11]
        if u64[base + 8] == before:
            return IDENTITY_CLOCK if before == 0 else (tick_base, wall_base, mult)
    return None


def ticks_to_unix_ns(ticks: int, clock: Tuple[int, int, int]) -> int:
    """wall = wall_base + (signed(ticks - tick_base) * mult) >> 32, all modulo 2^64."""
    tick_base, wall_base, mult = clock
    delta = (ticks - tick_base) & 0xFFFFFFFFFFFFFFFF
    if delta >= 1 << 63:
        delta -= 1 << 64
    return (wall_base + ((delta * mult) >> 32)) & 0xFFFFFFFFFFFFFFFF


# -- liveness -------------------------------------------------------------------------------------
def _process_exists(pid: int) -> bool:
    if sys.platform == "win32":
        from . import _windows

        return _windows.process_exists(pid)
    if pid == 0 or pid > 0x7FFFFFFF:
        return False
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True


def _proc_stat_fields(pid: int) -> Optional[List[str]]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, comes first);
    None if unreadable. The name may hold spaces and parentheses: parse after the last ')'."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            line = f.read().decode("ascii", "replace")
        return line[line.rindex(")") + 2 :].split()
    except (OSError, ValueError):
        return None


def process_start_unix_ns(pid: int, fields: Optional[List[str]] = None) -> int:
    """Start time of a process from /proc (0 if unknown), as the C++ platform layer computes it."""
    if sys.platform == "win32":
        from . import _windows

        return _windows.process_start_unix_ns(pid)
    if fields is None:
        fields = _proc_stat_fields(pid)
    try:
        if fields is None:
            return 0
        start_ticks = int(fields[22 - 3])
        boot = 0
        with open("/proc/stat", "rb") as f:
            for raw in f:
                if raw.startswith(b"btime "):
                    boot = int(raw[6:])
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        if boot == 0 or ticks_per_second <= 0:
            return 0
        return boot * 1_000_000_000 + start_ticks * (1_000_000_000 // ticks_per_second)
    except (OSError, ValueError, IndexError):
        return 0


def liveness_of(info: Optional[ExtensionInfo]) -> str:
    """"unknown" (no block), "closed", "gone" or "alive" (docs/format.md 10.1). A zombie (state Z,
    killed but not reaped yet) or a dying process (X) is gone: it will never write again."""
    if info is None:
        return "unknown"
    if info.closed:
        return "closed"
    if not _process_exists(info.writer_pid):
        return "gone"
    fields = _proc_stat_fields(info.writer_pid)
    if fields and fields[0] in ("Z", "X"):
        return "gone"
    started = process_start_unix_ns(info.writer_pid, fields)
    if started and info.writer_start_unix_ns:
        if abs(started - info.writer_start_unix_ns) > START_TIME_TOLERANCE_NS:
            return "gone"  # the pid was reused by another process
    return "alive"


def dictionary_used(words: Words, base: int) -> int:
    """The dictionary's "used" word (docs/format.md section 9.4); one load."""
    return words.u32[base * 2 + 26]


def dictionary_snapshot(words: Words, base: int) -> bytes:
    """A copy of the dictionary's published entries (empty when the block has no usable
    dictionary, section 9.2). Entries never change once counted in "used", so a copy taken after
    an entry was read holds every format string that entry can name."""
    at = base * 8
    size = words.u32[base * 2 + 2]
    dict_at = words.u32[base * 2 + 24]
    capacity = words.u32[base * 2 + 25]
    if dict_at % 4 or dict_at < at + EXT_MIN_SIZE or dict_at > at + size:
        return b""
    if capacity > at + size - dict_at:
        return b""
    used = dictionary_used(words, base)
    if used > capacity:
        return b""
    return bytes(words.u8[dict_at : dict_at + used])


class DictionaryFormats:
    """Format strings of deferred records by dictionary id, from a snapshot of the dictionary,
    parsed once each (C++ read_dictionary_entry, then parse_deferred_format)."""

    __slots__ = ("_bytes", "_parsed")

    def __init__(self, snapshot: bytes, parsed: Optional[dict] = None) -> None:
        self._bytes = snapshot
        self._parsed = parsed if parsed is not None else {}

    def grown(self, snapshot: bytes) -> "DictionaryFormats":
        """A newer snapshot of the same dictionary: what was parsed stays valid."""
        return DictionaryFormats(snapshot, self._parsed)

    def __call__(self, format_id: int):  # -> pieces, a parse error string, or None
        parsed = self._parsed.get(format_id)
        if parsed is not None:
            return parsed
        data = self._bytes
        used = len(data)
        if format_id % 4 or format_id + 4 > used:
            return None
        length = data[format_id] | (data[format_id + 1] << 8)
        if format_id + 4 + length > used or data[format_id + 2] != 1:  # kind 1: format string
            return None
        from ._deferred import parse_format

        parsed = parse_format(data[format_id + 4 : format_id + 4 + length])
        self._parsed[format_id] = parsed
        return parsed
