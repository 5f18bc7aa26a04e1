"""The v1 ring reading algorithm over a read-only mapping (docs/format.md section 7).

This is a line-by-line port of core/src/ring_reader.cpp: the order of the steps in ``_step`` is
what makes the reader correct, so each step names the rule it implements.

Shared words: every u32/u64 the writer may change is read through ``memoryview.cast('I')`` /
``cast('Q')`` views of the mapping. CPython reads one item of such a view with a fixed-size
``memcpy`` into a local (``UNPACK_SINGLE`` in Objects/memoryobject.c), which compiles to one
aligned load of the full width; ``struct.unpack_from`` would assemble bytes one at a time and
could observe a torn word. Payloads are copied with ``bytes(view[a:b])`` (one ``memcpy``) and
only then re-validated (seqlock read). Memory ordering relies on x86-64 TSO (loads are not
reordered with older loads) and on CPython executing loads in program order; see README.md.

Thread-safety: a RingReader is not thread-safe; use one per thread.
"""

from typing import Optional, Tuple

from ._errors import AttachError, NotALogError, UnsupportedVersionError, CorruptSegmentError

BUFFER_MAGIC = 0x4F55524F424C4F47
FORMAT_VERSION = 1
HEADER_SIZE = 16
ROW_SIZE = 16
ROW_COMMITTED = 1 << 63
ROW_OFFSET_MASK = ROW_COMMITTED - 1
ENTRY_HEADER = 4
ENTRY_COMMITTED = 1 << 31
ENTRY_LENGTH_MASK = ENTRY_COMMITTED - 1
LENGTH_WRAP = 1
LENGTH_MIN_ENTRY = 4
U64_MAX = (1 << 64) - 1

# Read results, as plain strings (cheap to compare; the public API wraps them in Status).
OK = "ok"
NO_DATA = "no_data"
LAPPED = "lapped"
NOT_A_LOG = "not_a_log"
UNSUPPORTED_VERSION = "unsupported_version"
CORRUPT = "corrupt"

# A row snapshot: (offset word, token, usable).
Row = Tuple[int, int, bool]
_UNUSABLE: Row = (0, 0, False)


class Words:
    """Aligned u32/u64/byte views over one mapping (8-byte aligned start). Not thread-safe."""

    __slots__ = ("size", "u8", "u32", "u64")

    def __init__(self, view: memoryview) -> None:
        self.size = len(view)
        self.u8 = view
        self.u32 = view[: self.size // 4 * 4].cast("I")
        self.u64 = view[: self.size // 8 * 8].cast("Q")

    def release(self) -> None:
        self.u32.release()
        self.u64.release()


def check_header(words: Words) -> Tuple[int, str, str]:
    """Validates the buffer header: (chunk count, error status or "", detail)."""
    if words.size < HEADER_SIZE:
        return 0, NOT_A_LOG, "buffer smaller than the 16-byte header or not 8-byte aligned"
    if words.u64[0] != BUFFER_MAGIC:
        return 0, NOT_A_LOG, "no ring buffer magic"
    version = words.u32[2]
    count = words.u32[3]
    if version != FORMAT_VERSION:
        return 0, UNSUPPORTED_VERSION, "format version is not 1"
    if count == 0:
        return 0, CORRUPT, "chunk count is 0"
    if words.size < HEADER_SIZE + ROW_SIZE * count + ENTRY_HEADER:
        return 0, NOT_A_LOG, "buffer too small for its chunk table"
    return count, "", ""


def raise_attach_error(status: str, detail: str) -> None:
    if status == UNSUPPORTED_VERSION:
        raise UnsupportedVersionError(status, detail)
    if status == CORRUPT:
        raise CorruptSegmentError(status, detail)
    raise NotALogError(status, detail)


class RingReader:
    """Reads entries of a v1 ring in a mapping that another process may be writing.

    ``read_next`` returns ``(status, sequence, lost, payload, detail)``. Never raises on any
    buffer content. Not thread-safe.
    """

    # A "now" walk in Python is slower than a native writer; bound it so attach always returns.
    MAX_SKIPS = 1 << 20

    def __init__(self, words: Words, start: str = "oldest") -> None:
        count, status, detail = check_header(words)
        if status:
            raise_attach_error(status, detail)
        self._w = words
        self._u32 = words.u32
        self._u64 = words.u64
        self._u8 = words.u8
        self._size = words.size
        self._count = count
        self._table_end = HEADER_SIZE + ROW_SIZE * count
        self._row_index = 0
        self._entered: Row = _UNUSABLE
        self._position = 0
        self._seq = 0
        self._resync_pending = False
        self._resync_reports_loss = True
        self._resync_exclude_current = False
        self._resync_min = 0
        self.delivered = 0
        self.lost = 0

        found: Optional[Tuple[int, Row]] = None
        if start == "oldest":
            found = self._find_row(0, count)
        else:
            for i in range(count):
                row = self._load_row(i)
                if row[2] and (found is None or row[1] > found[1][1]):
                    found = (i, row)
        if found is not None:
            self._enter(found[0], found[1])
        else:
            # Only while a writer restarts row 0: choose the start on the first read instead.
            self._schedule_resync(0)
            self._resync_reports_loss = False
        if start == "now":
            self._skip_to_end()

    # -- state ---------------------------------------------------------------------------------
    @property
    def chunk_count(self) -> int:
        return self._count

    @property
    def sequence(self) -> int:
        return self._seq

    def _load_row(self, index: int) -> Row:
        # Offset, token, offset again: equal committed offsets bracket a token that belongs to them.
        at = (HEADER_SIZE + ROW_SIZE * index) >> 3
        u64 = self._u64
        first = u64[at]
        token = u64[at + 1]
        second = u64[at]
        if first != second or not first & ROW_COMMITTED:
            return (first, token, False)
        offset = first & ROW_OFFSET_MASK
        # Offsets come from untrusted bytes: inside the data area, room for a header, 4-aligned.
        # A row with the largest token could hold no entry (its first would overflow the
        # sequence): corrupt, and usable it would let a reader re-enter it forever.
        usable = (
            offset >= self._table_end
            and offset % 4 == 0
            and offset <= self._size - ENTRY_HEADER
            and token != U64_MAX
        )
        return (first, token, usable)

    @staticmethod
    def _same(a: Row, b: Row) -> bool:
        return a[2] and b[2] and a[0] == b[0] and a[1] == b[1]

    def _current_row_unchanged(self) -> bool:
        # _same(_load_row(current), entered) without building a tuple: the entered row is usable,
        # and a row whose three loads equal its words is the same usable row.
        word, token, usable = self._entered
        if not usable:
            return False
        at = (HEADER_SIZE + ROW_SIZE * self._row_index) >> 3
        u64 = self._u64
        return u64[at] == word and u64[at + 1] == token and u64[at] == word

    def _find_row(self, min_token: int, exclude: int) -> Optional[Tuple[int, Row]]:
        found: Optional[Tuple[int, Row]] = None
        for i in range(self._count):
            if i == exclude:
                continue
            row = self._load_row(i)
            if row[2] and row[1] >= min_token and (found is None or row[1] < found[1][1]):
                found = (i, row)
        return found

    def _any_row_continuing(self, token: int, exclude: int) -> bool:
        # Whether a usable row other than `exclude` has a token >= `token` (rule 5).
        for i in range(self._count):
            if i == exclude:
                continue
            row = self._load_row(i)
            if row[2] and row[1] >= token:
                return True
        return False

    def newest_chunk_token(self) -> int:
        newest = 0
        for i in range(self._count):
            row = self._load_row(i)
            if row[2] and row[1] > newest:
                newest = row[1]
        return newest

    def _enter(self, index: int, row: Row) -> None:
        self._row_index = index
        self._entered = row
        self._position = row[0] & ROW_OFFSET_MASK
        self._seq = row[1]

    def _schedule_resync(self, min_token: int, exclude_current: bool = False) -> None:
        self._resync_pending = True
        self._resync_min = min_token
        self._resync_exclude_current = exclude_current

    def _fail_corrupt(self, why: str) -> Tuple[str, int, int, bytes, str]:
        # Skip the rest of this chunk; the skipped entries are counted as lost by the resync.
        self._schedule_resync(self._seq if self._seq == U64_MAX else self._seq + 1)
        return (CORRUPT, 0, 0, b"", why)

    # -- reading ------------------------------------------------------------------------------
    def read_next(self) -> Tuple[str, int, int, bytes, str]:
        return self._step(True)

    def _step(self, copy: bool) -> Tuple[str, int, int, bytes, str]:
        u32 = self._u32
        size = self._size
        # Bounded passes: a hostile chunk table could chain moves forever.
        for _ in range(2 * self._count + 16):
            if self._resync_pending:
                exclude = self._row_index if self._resync_exclude_current else self._count
                found = self._find_row(self._resync_min, exclude)
                if found is None:
                    return (NO_DATA, 0, 0, b"", "")
                index, row = found
                lost = row[1] - self._seq if self._resync_reports_loss else 0
                self._resync_pending = False
                self._resync_reports_loss = True
                self._enter(index, row)
                if lost > 0:
                    self.lost += lost
                    return (LAPPED, 0, lost, b"", "")
                continue

            position = self._position
            wrap = False
            length = 0
            if size - position < ENTRY_HEADER:
                wrap = True  # (a) implicit wrap
            else:
                # (b) the header first: everything below is judged against this one load.
                header = u32[position >> 2]
                length = header & ENTRY_LENGTH_MASK
                if not header & ENTRY_COMMITTED or length == 0:
                    # (c) a lapped reader must not report "no data" forever
                    if not self._current_row_unchanged():
                        self._schedule_resync(self._seq)
                        continue
                    # (5) never stall while newer data exists; the second header load matters.
                    if (
                        header == 0
                        and self._any_row_continuing(self._seq, self._row_index)
                        and u32[position >> 2] == 0
                    ):
                        self._schedule_resync(self._seq, True)
                        continue
                    return (NO_DATA, 0, 0, b"", "")
                # (c) the current row must still be the one we entered
                if not self._current_row_unchanged():
                    self._schedule_resync(self._seq)
                    continue
                # (d) only now the next row: a chunk that starts exactly here
                if self._row_index + 1 < self._count:
                    nxt = self._load_row(self._row_index + 1)
                    if nxt[2] and (nxt[0] & ROW_OFFSET_MASK) == position:
                        if nxt[1] == self._seq:
                            self._enter(self._row_index + 1, nxt)
                        elif nxt[1] > self._seq:
                            self._schedule_resync(self._seq)
                            continue
                        # a smaller token is a stale row from an earlier lap: ignore it
                wrap = length == LENGTH_WRAP

            if wrap:
                # (e) continue at chunk 0 only if it continues the sequence exactly
                first = self._load_row(0)
                if first[2] and first[1] == self._seq:
                    if self._row_index == 0 and position == (first[0] & ROW_OFFSET_MASK):
                        return self._fail_corrupt("wrap marker at the start of chunk 0")
                    self._enter(0, first)
                else:
                    self._schedule_resync(self._seq)
                continue

            # (f) validate, copy, (fence: program order on x86-64), re-check the whole row
            if length < LENGTH_MIN_ENTRY:
                return self._fail_corrupt("reserved entry length 2 or 3")
            if length > size - position:
                return self._fail_corrupt("entry runs past the end of the buffer")
            payload = bytes(self._u8[position + ENTRY_HEADER : position + length]) if copy else b""
            if not self._current_row_unchanged():
                self._schedule_resync(self._seq)  # the copy may be torn: discard it
                continue
            if self._seq == U64_MAX:
                return self._fail_corrupt("sequence number overflow")
            self._seq += 1
            self.delivered += 1
            nxt_pos = (position + length + 3) & ~3
            self._position = nxt_pos if nxt_pos < size else size
            return (OK, self._seq, 0, payload, "")
        return self._fail_corrupt("no progress: the chunk table forms a loop")

    def _skip_to_end(self) -> None:
        # Entries skipped here are not reported as lost: the caller asked to start now.
        for _ in range(self.MAX_SKIPS):
            status = self._step(False)[0]
            if status != OK and status != LAPPED:
                break
        self.delivered = 0
        self.lost = 0


__all__ = ["RingReader", "Words", "check_header", "AttachError"]
