"""Log records carried in entry payloads (docs/format.md section 11), decoded exactly as
core/src/record.cpp does: the same checks in the same order, the same error reasons.

Thread-safety: stateless functions and immutable values.
"""

import enum
import struct
from typing import Any, Callable, List, Optional, Tuple, Union

MARKER = 0x9E
VERSION = 1
DEFERRED_VERSION = 2
FIXED_SIZE = 18
DEFERRED_FIXED_SIZE = 22
FLAG_TRUNCATED = 1
FLAG_TICKS = 2


class Level(enum.IntEnum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    CRITICAL = 5

    def __str__(self) -> str:
        return self.name.lower()


# The C++ decoder's reasons (to_string(decode_status)); the vectors hold readers to them.
NOT_A_RECORD = "not a record"
BAD_VERSION = "unknown record version"
TRUNCATED = "record truncated"
BAD_LEVEL = "invalid level"
INVALID_UTF8 = "invalid UTF-8"


class Record:
    """A decoded record (treat as immutable). ``timestamp`` is as stored: unix ns, or writer
    ticks when ``ticks``."""

    __slots__ = ("level", "flags", "thread", "timestamp", "tag", "message", "fields")

    def __init__(
        self,
        level: Level,
        flags: int,
        thread: int,
        timestamp: int,
        tag: str,
        message: str,
        fields: Optional[List[Tuple[str, str]]] = None,
    ) -> None:
        self.level = level
        self.flags = flags
        self.thread = thread
        self.timestamp = timestamp
        self.tag = tag
        self.message = message
        self.fields: List[Tuple[str, str]] = fields if fields is not None else []

    @property
    def truncated(self) -> bool:
        return bool(self.flags & FLAG_TRUNCATED)

    @property
    def ticks(self) -> bool:
        return bool(self.flags & FLAG_TICKS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in Record.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Record(level={self.level}, tag={self.tag!r}, thread={self.thread}, "
            f"timestamp={self.timestamp}, message={self.message!r}, fields={self.fields!r})"
        )


_LEVELS = tuple(Level)
_unpack_head = struct.Struct("<BBBBIQBB").unpack_from


def decode_record(
    payload: bytes, formats: Optional[Callable[[int], Any]] = None
) -> Union[Record, str]:
    """A Record, or the reason it is not one (NOT_A_RECORD for plain payloads). Never raises.

    Deferred records (version 2, docs/format.md section 11.5) are formatted with the format
    strings ``formats`` returns by dictionary id (None: no such format string)."""
    n = len(payload)
    if n == 0 or payload[0] != MARKER:
        return NOT_A_RECORD
    if n < 2:
        return TRUNCATED
    deferred = payload[1] == DEFERRED_VERSION
    if payload[1] != VERSION and not deferred:
        return BAD_VERSION
    fixed = DEFERRED_FIXED_SIZE if deferred else FIXED_SIZE
    if n < fixed:
        return TRUNCATED
    # The payload is a private copy: struct is fine here (shared words never go through it).
    _, _, level, flags, thread, timestamp, tag_size, count = _unpack_head(payload)
    if level >= 6:
        return BAD_LEVEL
    at = fixed + tag_size
    if at > n:
        return TRUNCATED
    fields: List[Tuple[str, str]] = []
    # One handler for every string: each field's key and value are decoded right after its
    # bounds are checked, so the first failure in payload order decides, as in record.cpp.
    try:
        for _ in range(count):
            if at >= n:
                return TRUNCATED
            key_end = at + 1 + payload[at]
            if key_end + 2 > n:
                return TRUNCATED
            value_end = key_end + 2 + (payload[key_end] | (payload[key_end + 1] << 8))
            if value_end > n:
                return TRUNCATED
            fields.append(
                (
                    payload[at + 1 : key_end].decode("utf-8"),
                    payload[key_end + 2 : value_end].decode("utf-8"),
                )
            )
            at = value_end
        tag = payload[fixed : fixed + tag_size].decode("utf-8")
        if deferred:
            message = _render_deferred(payload, at, formats)
            if message[0]:
                return message[1]
            message = message[1]
        else:
            message = payload[at:].decode("utf-8")
    except UnicodeDecodeError:
        return INVALID_UTF8
    return Record(_LEVELS[level], flags, thread, timestamp, tag, message, fields)


def _render_deferred(
    payload: bytes, at: int, formats: Optional[Callable[[int], Any]]
) -> Tuple[bool, str]:
    """(False, message) or (True, reason)."""
    from ._deferred import UNKNOWN_FORMAT, render

    pieces = formats(int.from_bytes(payload[18:22], "little")) if formats is not None else None
    if pieces is None:
        return True, UNKNOWN_FORMAT
    ok, text = render(pieces, payload[at:])
    return (not ok), text


def level_name(level: Optional[Level]) -> str:
    return "-" if level is None else str(level)
