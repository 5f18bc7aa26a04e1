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
TYPED_VERSION = 3  # version 1 with a type byte after each field's key
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
BAD_FIELD = "field of an unknown type or not of its type"


class FieldType(enum.IntEnum):
    """How to read a field's text (docs/format.md, typed fields)."""

    I64 = 1
    U64 = 2
    F64 = 3
    BOOL = 5
    STRING = 7

    def __str__(self) -> str:
        return self.name.lower()


_DIGITS = frozenset(b"0123456789")


def _decimal_at_most(digits: bytes, limit: int) -> bool:
    if not digits or len(digits) > 20 or (len(digits) > 1 and digits[0] == 0x30):
        return False
    return all(c in _DIGITS for c in digits) and int(digits) <= limit


def _json_number(s: bytes) -> bool:
    """The RFC 8259 number grammar, which the writer's shortest float text satisfies."""
    i, n = 0, len(s)
    if i < n and s[i] == 0x2D:
        i += 1
    if i >= n:
        return False
    if s[i] == 0x30:
        i += 1
    elif s[i] in _DIGITS:
        while i < n and s[i] in _DIGITS:
            i += 1
    else:
        return False
    if i < n and s[i] == 0x2E:
        i += 1
        if i >= n or s[i] not in _DIGITS:
            return False
        while i < n and s[i] in _DIGITS:
            i += 1
    if i < n and s[i] in b"eE":
        i += 1
        if i < n and s[i] in b"+-":
            i += 1
        if i >= n or s[i] not in _DIGITS:
            return False
        while i < n and s[i] in _DIGITS:
            i += 1
    return i == n


def field_value_matches(kind: int, text: bytes) -> bool:
    """Whether ``text`` is what a writer writes for a field of type ``kind`` (C++
    field_value_matches)."""
    if kind == FieldType.STRING:
        return True
    if kind == FieldType.BOOL:
        return text in (b"true", b"false")
    if kind == FieldType.U64:
        return _decimal_at_most(text, (1 << 64) - 1)
    if kind == FieldType.I64:
        if text[:1] == b"-":
            return text != b"-0" and _decimal_at_most(text[1:], 1 << 63)
        return _decimal_at_most(text, (1 << 63) - 1)
    if kind == FieldType.F64:
        return text in (b"inf", b"-inf", b"nan", b"-nan") or _json_number(text)
    return False


FieldValue = Union[int, float, bool, str]


def typed_value(kind: int, text: str) -> FieldValue:
    """A field's value as int, float, bool or str (its text was checked by the decoder)."""
    if kind in (FieldType.I64, FieldType.U64):
        return int(text)
    if kind == FieldType.F64:
        return float(text)  # "inf", "-inf", "nan" and "-nan" are what float() reads
    if kind == FieldType.BOOL:
        return text == "true"
    return text


class Record:
    """A decoded record (treat as immutable). ``timestamp`` is as stored: unix ns, or writer
    ticks when ``ticks``."""

    __slots__ = ("level", "flags", "thread", "timestamp", "tag", "message", "fields", "field_types")

    def __init__(
        self,
        level: Level,
        flags: int,
        thread: int,
        timestamp: int,
        tag: str,
        message: str,
        fields: Optional[List[Tuple[str, str]]] = None,
        field_types: Optional[List[FieldType]] = None,
    ) -> None:
        self.level = level
        self.flags = flags
        self.thread = thread
        self.timestamp = timestamp
        self.tag = tag
        self.message = message
        # ``fields`` holds each field's text, as every reader shows it; ``field_types`` its type.
        self.fields: List[Tuple[str, str]] = fields if fields is not None else []
        self.field_types: List[FieldType] = (
            field_types if field_types is not None else [FieldType.STRING] * len(self.fields)
        )

    def typed_fields(self) -> List[Tuple[str, FieldValue]]:
        """(key, value) pairs with int, float, bool or str values, as the writer logged them."""
        return [(k, typed_value(t, v)) for (k, v), t in zip(self.fields, self.field_types)]

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
_FIELD_TYPES = frozenset(int(t) for t in FieldType)
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
    typed = payload[1] == TYPED_VERSION
    if payload[1] != VERSION and not deferred and not typed:
        return BAD_VERSION
    type_size = 1 if typed else 0
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
    types: List[FieldType] = []
    # One handler for every string: each field's key and value are decoded right after its
    # bounds are checked, so the first failure in payload order decides, as in record.cpp.
    try:
        for _ in range(count):
            if at >= n:
                return TRUNCATED
            key_end = at + 1 + payload[at]
            value_at = key_end + type_size + 2
            if value_at > n:
                return TRUNCATED
            value_end = value_at + (payload[value_at - 2] | (payload[value_at - 1] << 8))
            if value_end > n:
                return TRUNCATED
            kind = payload[key_end] if typed else FieldType.STRING
            if kind not in _FIELD_TYPES:
                return BAD_FIELD
            value = payload[value_at:value_end]
            fields.append((payload[at + 1 : key_end].decode("utf-8"), value.decode("utf-8")))
            if not field_value_matches(kind, value):
                return BAD_FIELD
            types.append(FieldType(kind))
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
    return Record(_LEVELS[level], flags, thread, timestamp, tag, message, fields, types)


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
