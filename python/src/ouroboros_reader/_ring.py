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

Two additions keep Python fast and every pass bounded, with exactly the outcomes of the C++
reader (the shared vectors and the interleaving arguments of docs/format.md 7.6 are the proof):

* Runs (``read_run``): from a committed entry, walk the following headers (one aligned load
  each), load the next row once to see whether a chunk starts inside the walked span (step d),
  copy the whole span with one ``memcpy``, then re-check the current row once (step f for every
  entry of the run). A header load precedes every payload byte of its entry, and the row re-load
  follows every copy, so the seqlock argument of section 8.2 holds for each entry of the run.
* Resync from a sorted snapshot of the rows (docs/format.md 7.8): a hostile table whose rows all
  lead to dead ends (corrupt entries, empty slots) would otherwise cost a scan of all N rows per
  dead end, N^2 in all. The snapshot is kept while it stays true: the chosen row is re-loaded
  and must equal its snapshot before it is entered; a choice that changed takes a new snapshot,
  and when the snapshot has nothing, a scan of the live table decides whether a new one is
  worth taking (a row committed later carries a larger token than every row committed before
  it, so an unchanged best choice is still the best choice).
* Implausible rows (docs/format.md 7.7): a snapshot read twice the same (the table at one
  instant) is judged row by row against its neighbours; a row no correct writer can have left
  is never entered by a resync, a start or the wrap, and a chunk that starts where the reader
  reads with a token below its sequence is corrupt (step d, with the far row). Without these a
  forged token made readers deliver entries already shown again, under new numbers.
* A state that repeats within one read is a loop the pass bound (2N + 16) would end with "no
  progress" anyway: it is said at once (a pass depends only on the state and the buffer).

Thread-safety: a RingReader is not thread-safe; use one per thread.
"""

from bisect import bisect_left
from typing import List, Optional, Tuple

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

BELOW_SEQUENCE = "a chunk starts here with a token below the sequence read so far"

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


def _classify(rows: List[Tuple[int, int, int]]) -> List[bool]:
    """Which rows of one consistent copy (usable rows in index order: index, offset word,
    token) are plausible: docs/format.md 7.7, rules 1 to 4, each row judged against its usable
    neighbours p (before) and q (after) as they are; one pass. As C++ classify_snapshot."""
    verdicts: List[bool] = []
    last = len(rows) - 1
    for k, (index, word, token) in enumerate(rows):
        oc = word & ROW_OFFSET_MASK
        plausible = token >= index  # (1) every earlier row of its lap holds an entry
        if k > 0:
            _, pw, pt = rows[k - 1]
            op = pw & ROW_OFFSET_MASK
            # (2) a row of p's lap: later, no more entries than the bytes between them hold;
            # an equal token would mean an empty chunk
            if token == pt:
                plausible = False
            if token > pt and (oc <= op or token - pt > (oc - op) // 4):
                plausible = False
            if k < last:
                # (3) between two rows that agree with each other
                _, qw, qt = rows[k + 1]
                oq = qw & ROW_OFFSET_MASK
                if op < oq and not op < oc < oq:
                    plausible = False
                if pt < qt and not pt < token < qt:
                    plausible = False
            elif oc <= op:
                plausible = False  # (4) the last row lies after the one before
        elif k < last and oc > rows[k + 1][1] & ROW_OFFSET_MASK:
            plausible = False  # (4) the first row lies before the next
        verdicts.append(plausible)
    return verdicts


class RingReader:
    """Reads entries of a v1 ring in a mapping that another process may be writing.

    ``read_next`` returns ``(status, sequence, lost, payload, detail)``. Never raises on any
    buffer content. Not thread-safe.
    """

    # A "now" walk in Python is slower than a native writer; bound it so attach always returns.
    MAX_SKIPS = 1 << 20
    # A run stops after this many entries or bytes: bounded copies and latency.
    RUN_ENTRIES = 1024
    RUN_SHORT = 8
    RUN_BYTES = 1 << 18

    def __init__(self, words: Words, start: str = "oldest", count_start_gap: bool = False) -> None:
        """``count_start_gap``: start at the oldest entry, and report the entries before it as
        lost (sequence numbers 1..k, one LAPPED result first): for re-attaching to a new
        incarnation of a segment, so that delivered + lost == written across incarnations."""
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
        # The table snapshot (docs/format.md 7.7, 7.8): the usable rows of one copy in index
        # order, as (index, offset word, token, plausible); the plausible ones sorted by
        # (token, index) as candidates [(token, index, offset word)]. None until taken.
        self._table: List[Tuple[int, int, int, bool]] = []
        self._table_indexes: List[int] = []
        self._snapshot: Optional[List[Tuple[int, int, int]]] = None
        self._snapshot_tokens: List[int] = []
        self.rows_rejected = 0  # implausible rows, summed over the snapshots taken
        # The far row for step d: the first snapshot row after row_index + 1 (set by _enter).
        self._far_index = count
        self._far_offset = -1
        # Entries per run: short right after a resync (a reader that was lapped lands on the
        # oldest chunk, which the writer is about to take back: a long run would be discarded
        # whole), doubling with every run that passes its re-check.
        self._run_limit = self.RUN_SHORT

        found: Optional[Tuple[int, Row]] = None
        if count_start_gap:
            # The oldest entry of the new incarnation is k + 1: entries 1..k were overwritten.
            self._schedule_resync(0)
            return
        if start == "oldest":
            found = self._find_row(0, count)
        else:
            found = self._newest_row()
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

    @property
    def offset(self) -> int:
        """Byte offset where the next entry header is expected."""
        return self._position

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

    def _copy_table(self) -> List[Tuple[int, int, int]]:
        # Offset words, tokens, offset words again, each in one pass (tolist() loads item by
        # item, in order): every row's token load lies between its two offset loads, as in
        # _load_row. The usable rows, in index order: (index, offset word, token).
        count = self._count
        u64 = self._u64
        firsts = u64[2 : 2 + 2 * count : 2].tolist()
        tokens = u64[3 : 3 + 2 * count : 2].tolist()
        seconds = u64[2 : 2 + 2 * count : 2].tolist()
        low = self._table_end
        high = self._size - ENTRY_HEADER
        return [
            (index, first, token)
            for index, (first, token, second) in enumerate(zip(firsts, tokens, seconds))
            if first == second
            and first & ROW_COMMITTED
            and low <= (first & ROW_OFFSET_MASK) <= high
            and not first & 3
            and token != U64_MAX
        ]

    def _take_snapshot(self) -> None:
        """Copies the table twice; if both copies agree (every row usable with the same words,
        or unusable, both times: the table at one instant) the copy is judged for plausibility
        (docs/format.md 7.7), else every row counts as plausible. Two attempts, as C++."""
        consistent = False
        rows: List[Tuple[int, int, int]] = []
        for _ in range(2):
            rows = self._copy_table()
            if self._copy_table() == rows:
                consistent = True
                break
        plausible = _classify(rows) if consistent else [True] * len(rows)
        self._table = [(i, w, t, ok) for (i, w, t), ok in zip(rows, plausible)]
        self._table_indexes = [row[0] for row in rows]
        candidates = sorted((t, i, w) for (i, w, t), ok in zip(rows, plausible) if ok)
        self.rows_rejected += len(rows) - len(candidates)
        self._snapshot = candidates
        self._snapshot_tokens = [c[0] for c in candidates]

    def _revalidate(self, index: int, word: int, token: int) -> Optional[Row]:
        row = self._load_row(index)
        if row[2] and row[0] == word and row[1] == token:
            return row
        return None

    def _pick(self, min_token: int, exclude: int) -> Tuple[str, Optional[Tuple[int, Row]]]:
        """From the candidates: the smallest token >= min_token (lowest index on a tie) other
        than `exclude`, re-loaded: ("found", (index, row)), ("none", None) or ("stale", None)."""
        rows = self._snapshot
        assert rows is not None
        at = bisect_left(self._snapshot_tokens, min_token)
        if at < len(rows) and rows[at][1] == exclude:
            at += 1  # row indexes are unique: one skip at most
        if at == len(rows):
            return ("none", None)
        token, index, word = rows[at]
        row = self._revalidate(index, word, token)
        return ("found", (index, row)) if row is not None else ("stale", None)

    def _find_row(self, min_token: int, exclude: int) -> Optional[Tuple[int, Row]]:
        """The plausible usable row with the smallest token >= min_token (the lowest index on a
        tie), other than `exclude`: docs/format.md 7.8, as C++ find_row."""
        if self._snapshot is not None:
            picked, found = self._pick(min_token, exclude)
            if picked == "found":
                return found
            # Nothing in the snapshot: a new snapshot only if some row qualifies now.
            if picked == "none" and self._scan_rows(min_token, exclude) is None:
                return None
        self._take_snapshot()
        picked, found = self._pick(min_token, exclude)
        if picked != "stale":
            return found
        # The rows change faster than a snapshot is taken: one live scan decides.
        return self._scan_rows(min_token, exclude)

    def _scan_rows(self, min_token: int, exclude: int) -> Optional[Tuple[int, Row]]:
        # The live table, no plausibility: the smallest token >= min_token, lowest index first.
        found: Optional[Tuple[int, Row]] = None
        for i in range(self._count):
            if i == exclude:
                continue
            row = self._load_row(i)
            if row[2] and row[1] >= min_token and (found is None or row[1] < found[1][1]):
                found = (i, row)
        return found

    def _newest_witness(self, token: int, exclude: int) -> str:
        # The plausible row with the largest token other than `exclude`, if its token >= token.
        rows = self._snapshot
        assert rows is not None
        for found_token, index, word in reversed(rows):
            if index == exclude:
                continue
            if found_token < token:
                return "none"
            return "found" if self._revalidate(index, word, found_token) is not None else "stale"
        return "none"

    def _any_row_live(self, token: int, exclude: int) -> bool:
        for i in range(self._count):
            if i == exclude:
                continue
            row = self._load_row(i)
            if row[2] and row[1] >= token:
                return True
        return False

    def _any_row_continuing(self, token: int, exclude: int) -> bool:
        """Whether a plausible usable row other than `exclude` has a token >= `token` (rule 5),
        witnessed by the newest one: as C++ any_row_continuing."""
        if self._snapshot is not None:
            picked = self._newest_witness(token, exclude)
            if picked == "found":
                return True
            if picked == "none" and not self._any_row_live(token, exclude):
                return False
        self._take_snapshot()
        picked = self._newest_witness(token, exclude)
        if picked != "stale":
            return picked == "found"
        return self._any_row_live(token, exclude)

    def _newest_row(self) -> Optional[Tuple[int, Row]]:
        """The start of "newest" and "now": the plausible row with the largest token (lowest
        index on a tie), as C++ newest_row."""
        self._take_snapshot()
        rows = self._snapshot
        assert rows is not None
        if not rows:
            return None
        at = bisect_left(self._snapshot_tokens, rows[-1][0])
        token, index, word = rows[at]
        row = self._revalidate(index, word, token)
        if row is not None:
            return (index, row)
        found: Optional[Tuple[int, Row]] = None
        for i in range(self._count):
            row = self._load_row(i)
            if row[2] and (found is None or row[1] > found[1][1]):
                found = (i, row)
        return found

    def _known_implausible(self, index: int, row: Row) -> bool:
        # Step e: whether the last snapshot judged this row, with exactly these values,
        # implausible.
        at = bisect_left(self._table_indexes, index)
        if at == len(self._table) or self._table_indexes[at] != index:
            return False
        _, word, token, plausible = self._table[at]
        return not plausible and word == row[0] and token == row[1]

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
        # The first row after index + 1 that the snapshot saw usable: reading on must not pass
        # its start unnoticed when the rows in between are not usable (step d).
        at = bisect_left(self._table_indexes, index + 2)
        if at < len(self._table):
            self._far_index = self._table[at][0]
            self._far_offset = self._table[at][1] & ROW_OFFSET_MASK
        else:
            self._far_index = self._count
            self._far_offset = -1

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

    def read_run(
        self, copy: bool = True, limit: int = RUN_ENTRIES
    ) -> Tuple[str, int, int, Optional[List[bytes]], str]:
        """The next entries: ``(OK, first sequence number, 0, payloads, "")`` for a run of one or
        more consecutive entries (sequence numbers first, first + 1, ...; the payloads are b""
        unless `copy`), or ``(status, 0, lost, None, detail)`` exactly as read_next returns it.
        The same outcomes as calling read_next repeatedly, fewer shared loads per entry."""
        if not self._resync_pending:
            run = self._run(copy, limit)
            if run is not None:
                return run
        status, seq, lost, payload, detail = self._step(copy)
        if status is OK:
            return (OK, seq, 0, [payload], "")
        return (status, seq, lost, None, detail)

    def _run(self, copy: bool, limit: int) -> Optional[Tuple[str, int, int, Optional[List[bytes]], str]]:
        # The data path of _step (b, d, f) for many entries at once; None leaves the case to
        # _step (anything but committed entries of a valid length, or a resync to do).
        size = self._size
        u32 = self._u32
        position = self._position
        if size - position < ENTRY_HEADER or self._seq == U64_MAX:
            return None
        # (b) one header load per entry, in order; it precedes every byte copied for the entry.
        header = u32[position >> 2]
        length = header & ENTRY_LENGTH_MASK
        if not header & ENTRY_COMMITTED or length < LENGTH_MIN_ENTRY or length > size - position:
            return None
        starts = [position]
        lengths = [length]
        end = (position + length + 3) & ~3
        stop = position + self.RUN_BYTES
        if limit > self._run_limit:
            limit = self._run_limit
        # Where the next chunk seems to start bounds the walk: the entries past it belong to
        # another row (and may be an earlier lap's). Only a bound: step d below decides.
        count = self._count
        u64 = self._u64
        following = self._row_index + 1
        if following < count:
            hint = u64[(HEADER_SIZE + ROW_SIZE * following) >> 3]
            if hint & ROW_COMMITTED:
                hint &= ROW_OFFSET_MASK
                if position < hint < stop:
                    stop = hint
        if position < self._far_offset < stop:
            stop = self._far_offset
        n = 1
        while n < limit and end < stop and size - end >= ENTRY_HEADER:
            header = u32[end >> 2]
            length = header & ENTRY_LENGTH_MASK
            if not header & ENTRY_COMMITTED or length < LENGTH_MIN_ENTRY or length > size - end:
                break
            starts.append(end)
            lengths.append(length)
            end = (end + length + 3) & ~3
            n += 1
        # (d) after the header loads: does a chunk start at one of these entries? Its row is
        # committed before its first entry, so a chunk whose first header was seen committed
        # above is seen here (or a later state, which the re-check below catches). Per entry,
        # _step meets the next row where its offset word equals the position, and elsewhere
        # the far row where its snapshot offset does; the first such meeting decides.
        entered = False
        cut = n
        while True:
            following = self._row_index + 1
            meetings: List[Tuple[int, int]] = []  # (entry number, row index)
            matched = -1  # where the next row's offset word equals the position
            if following < count:
                word = u64[(HEADER_SIZE + ROW_SIZE * following) >> 3]
                if word & ROW_COMMITTED:
                    offset = word & ROW_OFFSET_MASK
                    if starts[0] <= offset <= starts[-1]:
                        j = bisect_left(starts, offset)
                        if starts[j] == offset:
                            matched = j
                            if j or not entered:  # at starts[0] after entering: done there
                                meetings.append((j, following))
            far = self._far_offset
            if starts[0] <= far <= starts[-1]:
                j = bisect_left(starts, far)
                if starts[j] == far and j != matched and (j or not entered):
                    meetings.append((j, self._far_index))
            meetings.sort()
            moved = False
            for j, index in meetings:
                row = self._load_row(index)
                if not row[2] or (row[0] & ROW_OFFSET_MASK) != starts[j]:
                    continue  # no chunk starts here after all
                if row[1] == self._seq + j:
                    if j == 0:
                        self._enter(index, row)  # its first entry is the one loaded first
                        entered = moved = True
                    else:
                        cut = j  # entries from starts[j] on belong to that chunk: next call
                elif j == 0:
                    return None  # lapped, or a token below the sequence: _step says which
                else:
                    cut = j
                break
            if not moved:
                break
        seq = self._seq
        if cut > U64_MAX - seq:
            cut = U64_MAX - seq  # _step reports the overflow at the entry that would pass it
        base = starts[0]
        last_end = starts[cut - 1] + lengths[cut - 1]
        data = bytes(self._u8[base:last_end]) if copy else b""
        # (f) fence (program order on x86-64), then the whole current row once for the run.
        if not self._current_row_unchanged():
            self._schedule_resync(seq)  # the copy may be torn: discard it
            return None
        self._seq = seq + cut
        self.delivered += cut
        if self._run_limit < self.RUN_ENTRIES:
            self._run_limit *= 2
        after = (last_end + 3) & ~3
        self._position = after if after < size else size
        if not copy:
            return (OK, seq + 1, 0, [b""] * cut, "")
        if cut < n:
            del starts[cut:]
            del lengths[cut:]
        return (
            OK,
            seq + 1,
            0,
            [data[s - base + ENTRY_HEADER : s - base + l] for s, l in zip(starts, lengths)],
            "",
        )

    def _step(self, copy: bool) -> Tuple[str, int, int, bytes, str]:
        u32 = self._u32
        size = self._size
        # Bounded passes: a hostile chunk table could chain moves forever. A pass depends only
        # on this state and the buffer, so a state seen before in this call is a cycle that
        # would run to the bound: say so now (rows in pairs with equal tokens cost 2N + 16
        # passes per pair, N^2 in all, before). A read needs a few passes; the states are
        # recorded only after those.
        seen: Optional[set] = None  # type: ignore[type-arg]
        for passes in range(2 * self._count + 16):
            if passes >= 8:
                state = (
                    self._resync_pending,
                    self._resync_min,
                    self._resync_exclude_current,
                    self._resync_reports_loss,
                    self._row_index,
                    self._entered,
                    self._position,
                    self._seq,
                    self._far_index,
                    self._far_offset,
                )
                if seen is None:
                    seen = set()
                elif state in seen:
                    break
                seen.add(state)
            if self._resync_pending:
                exclude = self._row_index if self._resync_exclude_current else self._count
                found = self._find_row(self._resync_min, exclude)
                if found is None:
                    return (NO_DATA, 0, 0, b"", "")
                index, row = found
                lost = row[1] - self._seq if self._resync_reports_loss else 0
                self._resync_pending = False
                self._resync_reports_loss = True
                self._run_limit = self.RUN_SHORT
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
                # (d) only now the next row: a chunk that starts exactly here. One load of its
                # offset word rules out the common case first (docs/format.md 7.6); when it
                # does, the far row (the next row the snapshot saw usable) may start here.
                following = self._row_index + 1
                meet = -1
                if (
                    following < self._count
                    and self._u64[(HEADER_SIZE + ROW_SIZE * following) >> 3]
                    == position | ROW_COMMITTED
                ):
                    meet = following
                elif position == self._far_offset:
                    meet = self._far_index
                if meet >= 0:
                    row = self._load_row(meet)
                    if row[2] and (row[0] & ROW_OFFSET_MASK) == position:
                        if row[1] == self._seq:
                            self._enter(meet, row)  # the header just loaded is its first entry
                        elif row[1] > self._seq:
                            self._schedule_resync(self._seq)  # lapped
                            continue
                        else:
                            # One of the two rows lies about its numbering: reading on would
                            # deliver that chunk's entries again under new numbers.
                            return self._fail_corrupt(BELOW_SEQUENCE)
                wrap = length == LENGTH_WRAP

            if wrap:
                # (e) continue at chunk 0 only if it continues the sequence exactly, and the
                # snapshot did not judge it (with these values) implausible
                first = self._load_row(0)
                if first[2] and first[1] == self._seq and not self._known_implausible(0, first):
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
        skipped = 0
        while skipped < self.MAX_SKIPS:
            status, _, _, payloads, _ = self.read_run(False)
            if status is OK:
                assert payloads is not None
                skipped += len(payloads)
            elif status != LAPPED:
                break
            else:
                skipped += 1
        self.delivered = 0
        self.lost = 0


__all__ = ["RingReader", "Words", "check_header", "AttachError"]
