"""Formatting deferred records (record version 2, docs/format.md section 11.5) exactly as the C++
call site would have formatted them (core/include/ouroboros/format.hpp, core/src/format.cpp).

The text is built as bytes and the same rules apply: format strings are parsed by the same
grammar with the same checks, numbers are laid out by the same rules, and a char argument that
is not UTF-8 becomes '?' as the writer would have replaced it.

Thread-safety: stateless functions; parsed formats are immutable.
"""

import math
import struct
from decimal import Decimal
from typing import List, Optional, Tuple, Union

# Reasons, as C++ to_string(decode_status).
UNKNOWN_FORMAT = "format id not in the dictionary"
BAD_FORMAT = "format string does not parse"
BAD_ARGUMENTS = "arguments truncated or of an unknown type"
ARGUMENT_MISMATCH = "arguments do not match the format string"
INVALID_UTF8 = "invalid UTF-8"

I64, U64, F64, F32, BOOL, CHAR, STRING, POINTER = 1, 2, 3, 4, 5, 6, 7, 8
_SIGNED, _UNSIGNED, _BOOL, _CHAR, _FLOAT, _STRING, _POINTER, _ANY = range(8)
_KIND = {I64: _SIGNED, U64: _UNSIGNED, F64: _FLOAT, F32: _FLOAT, BOOL: _BOOL, CHAR: _CHAR,
         STRING: _STRING, POINTER: _POINTER}
MAX_ARGUMENTS = 256
MAX_PIECES = 2 * MAX_ARGUMENTS + 8


class Spec:
    __slots__ = ("fill", "align", "sign", "alternate", "zero_pad", "type", "width", "precision")

    def __init__(self) -> None:
        self.fill = " "
        self.align = ""
        self.sign = ""
        self.alternate = False
        self.zero_pad = False
        self.type = ""
        self.width = 0
        self.precision = -1

    def empty(self) -> bool:
        return (not self.align and not self.sign and not self.alternate and not self.zero_pad
                and not self.type and self.width == 0 and self.precision < 0)


# A parsed format: (literal bytes, argument index or None, spec) per piece.
Piece = Tuple[bytes, Optional[int], Optional[Spec]]


def spec_error(s: Spec, kind: int) -> Optional[str]:
    """format.hpp spec_error: why `s` cannot format an argument of `kind`."""
    t = s.type
    int_type = t in ("", "d", "x", "X", "b", "B", "o", "c")
    if kind in (_SIGNED, _UNSIGNED):
        if not int_type:
            return "invalid presentation type for an integer"
        if s.precision >= 0:
            return "precision is not allowed for integers"
    elif kind in (_BOOL, _CHAR):
        if not int_type and t != "s":
            return "invalid presentation type for bool/char"
        if s.precision >= 0:
            return "precision is not allowed for bool/char"
        if t in ("", "s") or (kind == _CHAR and t == "c"):
            if s.sign or s.alternate or s.zero_pad:
                return "sign, '#' and '0' need a numeric type"
    elif kind == _FLOAT:
        if t not in ("", "f", "F", "e", "E", "g", "G", "a", "A"):
            return "invalid presentation type for a floating-point value"
        if s.precision > 150:
            return "precision above 150 is not supported"
    elif kind == _STRING:
        if t not in ("", "s"):
            return "invalid presentation type for a string"
        if s.sign or s.alternate or s.zero_pad:
            return "sign, '#' and '0' need a numeric type"
    elif kind == _POINTER:
        if t not in ("", "p"):
            return "invalid presentation type for a pointer"
        if s.sign or s.alternate or s.precision >= 0:
            return "invalid spec for a pointer"
    return None


def parse_format(raw: bytes) -> Union[List[Piece], str]:
    """format.hpp parse_format with every argument of unknown type: the pieces or the error."""
    if len(raw) > 0xFFFF:
        return "format string longer than 65535 bytes"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "format string is not valid UTF-8"
    text = raw.decode("latin-1")  # one char per byte, so indices are byte offsets
    n = len(text)
    pieces: List[Piece] = []
    too_many = "too many replacement fields or escaped braces"

    def add(begin: int, end: int) -> bool:
        if len(pieces) == MAX_PIECES:
            return False
        pieces.append((raw[begin:end], None, None))
        return True

    def number(i: int, limit: int) -> Tuple[int, int, bool]:
        value = 0
        while i < n and "0" <= text[i] <= "9":
            value = value * 10 + ord(text[i]) - 48
            if value > limit:
                return 0, i, False
            i += 1
        return value, i, True

    literal_start = next_auto = i = 0
    manual = automatic = any_piece = False
    while i < n:
        c = text[i]
        if c in "{}" and i + 1 < n and text[i + 1] == c:  # "{{" or "}}": one brace
            if not add(literal_start, i + 1):
                return too_many
            any_piece = True
            i += 2
            literal_start = i
            continue
        if c == "}":
            return "unmatched '}' in format string"
        if c != "{":
            i += 1
            continue
        literal_end = i
        i += 1
        if i < n and "0" <= text[i] <= "9":
            index, i, ok = number(i, 255)
            if not ok:
                return "number in format spec too large"
            manual = True
        else:
            index = next_auto
            next_auto += 1
            automatic = True
        if manual and automatic:
            return "cannot mix automatic and manual argument indexing"
        if index >= MAX_ARGUMENTS:
            return "argument index out of range (more fields than arguments?)"
        s = Spec()
        if i < n and text[i] == ":":
            i += 1
            if i + 1 < n and text[i + 1] in "<>^" and text[i] not in "{}":
                if ord(text[i]) >= 0x80:
                    return "fill must be an ASCII character"
                s.fill = text[i]
                s.align = text[i + 1]
                i += 2
            elif i < n and text[i] in "<>^":
                s.align = text[i]
                i += 1
            if i < n and text[i] in "+- ":
                s.sign = "" if text[i] == "-" else text[i]
                i += 1
            if i < n and text[i] == "#":
                s.alternate = True
                i += 1
            if i < n and text[i] == "0":
                s.zero_pad = True
                i += 1
            s.width, i, ok = number(i, 4096)
            if not ok:
                return "number in format spec too large"
            if i < n and text[i] == ".":
                i += 1
                if i >= n or not "0" <= text[i] <= "9":
                    return "missing precision after '.'"
                s.precision, i, ok = number(i, 4096)
                if not ok:
                    return "number in format spec too large"
            if i < n and text[i] != "}":
                s.type = text[i]
                i += 1
        if i >= n or text[i] != "}":
            return "invalid format spec or missing '}'"
        i += 1
        if not add(literal_start, literal_end):
            return too_many
        any_piece = True
        pieces[-1] = (pieces[-1][0], index, s)
        literal_start = i
    if literal_start < n or not any_piece:
        if not add(literal_start, n):
            return too_many
    return pieces


# ---- layout (format.cpp) ----


def _code_points(b: bytes) -> int:
    return sum(1 for x in b if (x & 0xC0) != 0x80)


def _pad(s: Spec, used: int, default_align: str, prefix: bytes, body: bytes) -> bytes:
    if used >= s.width:
        return prefix + body
    padding = s.width - used
    if s.zero_pad and not s.align:
        return prefix + b"0" * padding + body
    align = s.align or default_align
    left = padding if align == ">" else padding // 2 if align == "^" else 0
    fill = s.fill.encode("latin-1")
    return fill * left + prefix + body + fill * (padding - left)


def _integer(s: Spec, magnitude: int, negative: bool) -> bytes:
    prefix = "-" if negative else s.sign
    t = s.type
    base = {"x": 16, "X": 16, "b": 2, "B": 2, "o": 8}.get(t, 10)
    upper = t in ("X", "B")
    if s.alternate and base != 10:
        prefix += "0"
        if base == 16:
            prefix += "X" if upper else "x"
        if base == 2:
            prefix += "B" if upper else "b"
    digits = {16: "%x", 8: "%o", 10: "%d"}[base] % magnitude if base != 2 else bin(magnitude)[2:]
    if upper:
        digits = digits.upper()
    return _pad(s, len(prefix) + len(digits), ">", prefix.encode(), digits.encode())


def _shortest_digits(value: float, single: bool) -> Tuple[str, int]:
    """The shortest round-trip digits (as a float32 when `single`) and the decimal exponent of
    the first digit."""
    if single:
        for p in range(1, 10):
            text = "%.*e" % (p - 1, value)
            try:
                if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                    break
            except OverflowError:  # rounded past the largest float: not this length
                continue
        mantissa, exp = text.split("e")
        return mantissa.replace(".", "").lstrip("-").rstrip("0") or "0", int(exp)
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    if not stripped:
        return "0", 0
    exponent += len(digits) - len(stripped)  # type: ignore[operator]
    return stripped, len(stripped) - 1 + exponent  # type: ignore[operator]


def _shortest(value: float, single: bool) -> str:
    """format.cpp write_shortest: fmt's layout of the shortest digits."""
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    digits, exp = _shortest_digits(abs(value), single)
    if digits == "0":
        return sign + "0"
    if exp < -4 or exp >= 16:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, mantissa, "-" if exp < 0 else "+", abs(exp))
    if exp < 0:
        return sign + "0." + "0" * (-exp - 1) + digits
    if exp + 1 >= len(digits):
        return sign + digits + "0" * (exp + 1 - len(digits))
    return sign + digits[: exp + 1] + "." + digits[exp + 1 :]


def _hex(value: float, precision: int) -> str:
    """std::to_chars(chars_format::hex): no "0x", the shortest or `precision` hex digits
    (rounded half to even; a carry makes the leading digit 2), exponent without padding."""
    bits = struct.unpack("<Q", struct.pack("<d", value))[0]
    sign = "-" if bits >> 63 else ""
    biased = (bits >> 52) & 0x7FF
    fraction = bits & ((1 << 52) - 1)
    if biased == 0x7FF:
        return sign + ("nan" if fraction else "inf")
    if biased == 0:
        lead, exp = 0, (0 if fraction == 0 else -1022)
    else:
        lead, exp = 1, biased - 1023
    if precision < 0:
        digits = ("%013x" % fraction).rstrip("0")
    else:
        if precision < 13:
            drop = 4 * (13 - precision)
            full = (lead << 52) | fraction  # the leading digit takes part in ties to even
            kept = full >> drop
            rest = full & ((1 << drop) - 1)
            half = 1 << (drop - 1)
            if rest > half or (rest == half and kept & 1):
                kept += 1
            lead = kept >> (4 * precision)
            kept &= (1 << (4 * precision)) - 1
            digits = ("%0*x" % (precision, kept)) if precision > 0 else ""
        else:
            digits = ("%013x" % fraction) + "0" * (precision - 13)
    body = str(lead) + ("." + digits if digits else "")
    return "%s%sp%s%d" % (sign, body, "-" if exp < 0 else "+", abs(exp))


def _floating(s: Spec, value: float, single: bool) -> bytes:
    t = s.type
    p = s.precision
    finite = math.isfinite(value)
    if t in ("f", "F"):
        text = "%.*f" % (6 if p < 0 else p, value) if finite else _shortest(value, False)
    elif t in ("e", "E"):
        text = "%.*e" % (6 if p < 0 else p, value) if finite else _shortest(value, False)
    elif t in ("g", "G"):
        text = "%.*g" % (6 if p < 0 else p, value) if finite else _shortest(value, False)
    elif t in ("a", "A"):
        text = _hex(value, p)
    elif p < 0:
        text = _shortest(value, single)
    else:
        text = "%.*g" % (p, value) if finite else _shortest(value, False)
    if not finite:
        text = _shortest(value, False)
    if t in ("F", "E", "G", "A"):
        text = text.upper()
    if text.startswith("-"):
        prefix, text = "-", text[1:]
    else:
        prefix = s.sign
    adjusted = s
    if not finite and s.zero_pad:
        adjusted = Spec()
        for k in Spec.__slots__:
            setattr(adjusted, k, getattr(s, k))
        adjusted.zero_pad = False
    return _pad(adjusted, len(prefix) + len(text), ">", prefix.encode(), text.encode())


def _string(s: Spec, b: bytes) -> bytes:
    if s.precision >= 0:
        seen = 0
        end = len(b)
        for i, x in enumerate(b):
            if (x & 0xC0) != 0x80:
                if seen == s.precision:
                    end = i
                    break
                seen += 1
        b = b[:end]
    return _pad(s, _code_points(b), "<", b"", b)


def _replace_invalid_utf8(b: bytes) -> bytes:
    """record.cpp replace_invalid_utf8: bytes outside a valid UTF-8 sequence become '?'."""
    out = bytearray(b)
    i = 0
    n = len(out)
    while i < n:
        c = out[i]
        if c < 0x80:
            i += 1
            continue
        if c & 0xE0 == 0xC0:
            length = 2
        elif c & 0xF0 == 0xE0:
            length = 3
        elif c & 0xF8 == 0xF0:
            length = 4
        else:
            length = 0
        if length and i + length <= n:
            try:
                bytes(out[i : i + length]).decode("utf-8")
                i += length
                continue
            except UnicodeDecodeError:
                pass
        out[i] = 0x3F
        i += 1
    return bytes(out)


def _split(args: bytes) -> Union[List[Tuple[int, object]], str]:
    out: List[Tuple[int, object]] = []
    at = 0
    n = len(args)
    while at < n:
        if len(out) == MAX_ARGUMENTS:
            return BAD_ARGUMENTS
        t = args[at]
        at += 1
        width = {I64: 8, U64: 8, F64: 8, POINTER: 8, F32: 4, BOOL: 1, CHAR: 1, STRING: 4}.get(t)
        if width is None or n - at < width:
            return BAD_ARGUMENTS
        raw = args[at : at + width]
        at += width
        value: object
        if t == I64:
            value = struct.unpack("<q", raw)[0]
        elif t in (U64, POINTER):
            value = struct.unpack("<Q", raw)[0]
        elif t == F64:
            value = struct.unpack("<d", raw)[0]
        elif t == F32:
            value = struct.unpack("<f", raw)[0]
        elif t == BOOL:
            if raw[0] > 1:
                return BAD_ARGUMENTS
            value = raw[0] == 1
        elif t == CHAR:
            value = raw[0]
        else:
            size = struct.unpack("<I", raw)[0]
            if n - at < size:
                return BAD_ARGUMENTS
            value = args[at : at + size]
            at += size
            try:
                value.decode("utf-8")  # type: ignore[attr-defined]
            except UnicodeDecodeError:
                return INVALID_UTF8
        out.append((t, value))
    return out


def render(pieces: Union[List[Piece], str], args: bytes) -> Tuple[bool, str]:
    """(True, message) or (False, reason) for a record with these parsed pieces (or a parse
    error) and encoded arguments."""
    if isinstance(pieces, str):
        return False, BAD_FORMAT
    split = _split(args)
    if isinstance(split, str):
        return False, split
    for _, index, spec in pieces:
        if index is None:
            continue
        assert spec is not None
        if index >= len(split) or spec_error(spec, _KIND[split[index][0]]):
            return False, ARGUMENT_MISMATCH
    out = bytearray()
    unchecked = False
    for literal, index, spec in pieces:
        out += literal
        if index is None:
            continue
        assert spec is not None
        t, v = split[index]
        plain = spec.empty()
        if t in (I64, U64):
            iv: int = v  # type: ignore[assignment]
            if plain:
                out += str(iv).encode()
            elif spec.type == "c":
                byte = iv & 0xFF
                unchecked |= byte >= 0x80
                out += _pad(spec, _code_points(bytes([byte])), "<", b"", bytes([byte]))
            else:
                out += _integer(spec, abs(iv), iv < 0)
        elif t == BOOL:
            if spec.type in ("", "s"):
                word = b"true" if v else b"false"
                out += _pad(spec, len(word), "<", b"", word)
            else:
                out += _integer(spec, 1 if v else 0, False)
        elif t == CHAR:
            cv: int = v  # type: ignore[assignment]
            if spec.type in ("", "c", "s"):
                unchecked |= cv >= 0x80
                out += _pad(spec, _code_points(bytes([cv])), "<", b"", bytes([cv]))
            else:
                out += _integer(spec, cv, False)
        elif t in (F64, F32):
            out += _floating(spec, v, t == F32)  # type: ignore[arg-type]
        elif t == STRING:
            out += v if plain else _string(spec, v)  # type: ignore[operator,arg-type]
        else:
            digits = b"%x" % v  # type: ignore[str-format]
            out += _pad(spec, 2 + len(digits), ">", b"0x", digits)
    if unchecked:
        out = bytearray(_replace_invalid_utf8(bytes(out)))
    return True, out.decode("utf-8")
