"""Hand-built v1 buffers for tests (docs/format.md sections 2-4): no extension block unless asked,
so payloads are plain bytes and liveness is unknown."""

import struct
from typing import List, Sequence, Tuple

MAGIC = 0x4F55524F424C4F47
COMMITTED_ROW = 1 << 63
COMMITTED_ENTRY = 1 << 31


def ring_with_entries(payloads: Sequence[bytes], chunks: int = 1, slack: int = 64) -> bytes:
    """One chunk (row 0, token 0) holding `payloads` in order; the other rows are empty."""
    table_end = 16 + 16 * chunks
    size = table_end + sum(4 + ((len(p) + 3) & ~3) for p in payloads) + slack
    size = (size + 7) & ~7
    buf = bytearray(size)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, chunks)
    struct.pack_into("<QQ", buf, 16, COMMITTED_ROW | table_end, 0)
    at = table_end
    for p in payloads:
        struct.pack_into("<I", buf, at, COMMITTED_ENTRY | (4 + len(p)))
        buf[at + 4 : at + 4 + len(p)] = p
        at = (at + 4 + len(p) + 3) & ~3
    return bytes(buf)


def rows_at_slots(count: int, header_word: int) -> bytes:
    """`count` rows; row i is committed at the i-th 4-byte slot after the table with token i, and
    every slot holds `header_word` (e.g. a committed reserved length 2 = a corrupt entry, or 0 =
    no data). The quadratic case of issue 10: every row leads to a dead end."""
    table_end = 16 + 16 * count
    size = table_end + 4 * count
    buf = bytearray(size)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, count)
    for i in range(count):
        struct.pack_into("<QQ", buf, 16 + 16 * i, COMMITTED_ROW | (table_end + 4 * i), i)
        struct.pack_into("<I", buf, table_end + 4 * i, header_word)
    return bytes(buf)


def rows_with_one_entry_then_corrupt(count: int) -> bytes:
    """`count` chunks of 12 bytes: row i (token 2i) holds one entry (payload = u32 i), then a
    reserved length 3. The reader delivers each entry, skips the corrupt one, moves on."""
    table_end = 16 + 16 * count
    buf = bytearray(table_end + 12 * count + 8)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, count)
    for i in range(count):
        at = table_end + 12 * i
        struct.pack_into("<QQ", buf, 16 + 16 * i, COMMITTED_ROW | at, 2 * i)
        struct.pack_into("<III", buf, at, COMMITTED_ENTRY | 8, i, COMMITTED_ENTRY | 3)
    return bytes(buf)


def rows_in_equal_token_pairs(count: int) -> bytes:
    """`count` rows at consecutive empty 4-byte slots; rows 2k and 2k + 1 share token k. Every
    row but row 0 is implausible (docs/format.md 7.7: a token below the row index, an equal
    token next door), so the reader starts at row 0 and has nothing to read: no data."""
    table_end = 16 + 16 * count
    buf = bytearray(table_end + 4 * count)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, count)
    for i in range(count):
        struct.pack_into("<QQ", buf, 16 + 16 * i, COMMITTED_ROW | (table_end + 4 * i), i // 2)
    return bytes(buf)


def plausible_rows_in_loops(groups: int) -> bytes:
    """3 x `groups` rows at empty 8-byte slots, each group with tokens (T + 2, T, T + 2),
    T = 3 x groups + 2g: every row passes the plausibility rules (docs/format.md 7.7), and rule 5
    sends the reader back and forth between the two rows with token T + 2 of a group, a loop
    within one read ("no progress: the chunk table forms a loop"), which the C++ reader runs to
    the 2N + 16-pass bound for each group."""
    count = 3 * groups
    table_end = 16 + 16 * count
    buf = bytearray(table_end + 8 * count + 8)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, count)
    for g in range(groups):
        base = count + 2 * g
        for k, token in enumerate((base + 2, base, base + 2)):
            i = 3 * g + k
            struct.pack_into("<QQ", buf, 16 + 16 * i, COMMITTED_ROW | (table_end + 8 * i), token)
    return bytes(buf)


def expected_plausible_rows_in_loops(groups: int) -> List[Tuple[str, int]]:
    """What ouroboros-cli (the C++ ring_reader, with the plausibility rules) delivers from
    plausible_rows_in_loops, oldest start: per group, 2 entries lost, then the loop."""
    return [("lapped", 2), ("corrupt", 0)] * groups


def expected_rows_at_slots(count: int, corrupt: bool) -> List[Tuple[str, int]]:
    """What the C++ ring_reader delivers from rows_at_slots, oldest start: with corrupt entries,
    'corrupt' for row 0, then ('lapped', 1) and 'corrupt' for each further row; with empty slots,
    ('lapped', 1) for each further row (rule 5 moves on, the rest of each chunk counted lost)."""
    events: List[Tuple[str, int]] = [("corrupt", 0)] if corrupt else []
    for _ in range(count - 1):
        events.append(("lapped", 1))
        if corrupt:
            events.append(("corrupt", 0))
    return events


def record_payload(level: int, thread: int, unix_ns: int, tag: bytes, message: bytes,
                   fields: Sequence[Tuple[bytes, bytes]] = ()) -> bytes:
    """A log record (docs/format.md 11.1) with a unix-ns timestamp."""
    out = bytearray(struct.pack("<BBBBIQBB", 0x9E, 1, level, 0, thread, unix_ns, len(tag),
                                len(fields)))
    out += tag
    for key, value in fields:
        out += struct.pack("<B", len(key)) + key + struct.pack("<H", len(value)) + value
    return bytes(out + message)


def records_ring(payloads: Sequence[bytes], slack: int = 64) -> bytes:
    """One chunk holding `payloads`, behind an extension block that says "records" (pid 0,
    incarnation 1, no clock calibration: timestamps are unix ns)."""
    table_end = 16 + 16
    block = 112
    first = table_end + block
    size = first + sum(4 + ((len(p) + 3) & ~3) for p in payloads) + slack
    size = (size + 7) & ~7
    buf = bytearray(size)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, 1)
    struct.pack_into("<QQ", buf, 16, COMMITTED_ROW | first, 0)
    struct.pack_into("<QII", buf, table_end, 0x3158454F52554F00, block, 1)
    struct.pack_into("<QQQQ", buf, table_end + 16, 0, 0, 1, 0)  # pid, start, incarnation, beat
    struct.pack_into("<II", buf, table_end + 48, 1, 0)  # encoding: records; flags
    at = first
    for p in payloads:
        struct.pack_into("<I", buf, at, COMMITTED_ENTRY | (4 + len(p)))
        buf[at + 4 : at + 4 + len(p)] = p
        at = (at + 4 + len(p) + 3) & ~3
    return bytes(buf)


DEAD_PID = 0x7FFFFFF0  # above any pid_max: no such process, so the writer is "gone"
EXT_MAGIC = 0x3158454F52554F00
FLAG_CLOSED = 1


def segment(chunks: Sequence[Sequence[object]], records: bool = False, pid: int = DEAD_PID,
            incarnation: int = 0x0123456789ABCDEF, closed: bool = False,
            heartbeat: int = 0, slack: int = 64) -> bytes:
    """A segment with an extension block (docs/format.md 9.1) and one row per chunk, laid out back
    to back: each item of a chunk is a payload (bytes) or a raw entry header word (int, e.g.
    COMMITTED_ENTRY | 2: a corrupt entry that ends the chunk). Row i's token is the number of items
    in the chunks before it. Heartbeat 0 keeps event texts free of "last heartbeat ... ago"."""
    count = len(chunks)
    table_end = 16 + 16 * count
    block = 112
    at = table_end + block
    body = bytearray()
    rows = []
    token = 0
    for chunk in chunks:
        rows.append((COMMITTED_ROW | (at + len(body)), token))
        for item in chunk:
            if isinstance(item, int):
                body += struct.pack("<I", item)
            else:
                assert isinstance(item, bytes)
                body += struct.pack("<I", COMMITTED_ENTRY | (4 + len(item))) + item
                body += bytes(-len(body) % 4)
            token += 1
    size = (at + len(body) + slack + 7) & ~7
    buf = bytearray(size)
    struct.pack_into("<QII", buf, 0, MAGIC, 1, count)
    for i, (word, tok) in enumerate(rows):
        struct.pack_into("<QQ", buf, 16 + 16 * i, word, tok)
    struct.pack_into("<QII", buf, table_end, EXT_MAGIC, block, 1)
    struct.pack_into("<QQQQ", buf, table_end + 16, pid, 0, incarnation, heartbeat)
    struct.pack_into("<II", buf, table_end + 48, 1 if records else 0, FLAG_CLOSED if closed else 0)
    struct.pack_into("<I", buf, table_end + 96, table_end + block)
    buf[at : at + len(body)] = body
    return bytes(buf)
