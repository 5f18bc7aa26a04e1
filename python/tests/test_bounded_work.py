"""Issue 10 item 3: a full pass over any buffer of S bytes costs O(S log S) at most, however many
corrupt rows it holds. The crafted case: N = 65 536 rows (a 1.3 MB buffer), each pointing at a
corrupt entry (or at an empty slot), so every row is a dead end that sends the reader to the next
one. A scan of all rows per dead end is N^2 = 4.3e9 row loads; the reader must stay within a
small multiple of N. Shared-word loads are counted, not timed (no timing in unit tests)."""

from typing import Any, List, Tuple

import pytest

from crafted import (
    expected_rows_at_slots,
    expected_plausible_rows_in_loops,
    plausible_rows_in_loops,
    rows_at_slots,
    rows_in_equal_token_pairs,
    rows_with_one_entry_then_corrupt,
)
from ouroboros_reader import Reader, Status
from ouroboros_reader import _ring

N = 65536
# Loads per row the reader may spend, over the whole pass (header, row checks, a sorted
# snapshot now and then). A scan of the table per row needs N loads per row.
LOADS_PER_ROW = 64


class LoadBudgetExceeded(AssertionError):
    pass


class CountingView:
    """Stands in for the u32/u64 memoryviews of a mapping and counts every word loaded."""

    def __init__(self, view: memoryview, counter: List[int], budget: int) -> None:
        self._view = view
        self._counter = counter
        self._budget = budget

    def _count(self, n: int) -> None:
        self._counter[0] += n
        if self._counter[0] > self._budget:
            raise LoadBudgetExceeded(f"more than {self._budget} shared-word loads")

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            part = self._view[key]
            self._count(len(part))
            return part
        self._count(1)
        return self._view[key]

    def __len__(self) -> int:
        return len(self._view)

    def tolist(self) -> List[int]:
        self._count(len(self._view))
        return self._view.tolist()


def counted_ring(data: bytes, budget: int) -> Tuple[_ring.RingReader, List[int]]:
    words = _ring.Words(memoryview(bytearray(data)))
    counter = [0]
    words.u32 = CountingView(words.u32, counter, budget)  # type: ignore[assignment]
    words.u64 = CountingView(words.u64, counter, budget)  # type: ignore[assignment]
    return _ring.RingReader(words, "oldest"), counter


def drain_ring(ring: _ring.RingReader) -> List[Tuple[str, int]]:
    events: List[Tuple[str, int]] = []
    while True:
        status, _seq, lost, _payload, _detail = ring.read_next()
        if status == _ring.NO_DATA:
            return events
        assert status in (_ring.LAPPED, _ring.CORRUPT), status
        events.append((status, lost))


@pytest.mark.parametrize("corrupt", [True, False], ids=["corrupt-entries", "empty-slots"])
def test_rows_each_leading_to_a_dead_end_cost_linear_loads(corrupt: bool) -> None:
    data = rows_at_slots(N, 0x80000002 if corrupt else 0)
    assert len(data) > 1_300_000
    ring, loads = counted_ring(data, LOADS_PER_ROW * N)
    events = drain_ring(ring)
    assert events == expected_rows_at_slots(N, corrupt)
    assert ring.lost == N - 1 and ring.delivered == 0
    # The reader is at rest: asking again costs one more table scan at most, not N.
    before = loads[0]
    assert ring.read_next()[0] == _ring.NO_DATA
    assert loads[0] - before <= 4 * N + 64


def test_rows_in_equal_token_pairs_cost_linear_loads() -> None:
    # All rows but row 0 are implausible (docs/format.md 7.7): nothing to read, and finding that
    # out must not cost a scan per row either.
    ring, loads = counted_ring(rows_in_equal_token_pairs(N), LOADS_PER_ROW * N)
    assert drain_ring_with_details(ring) == []
    assert ring.lost == 0 and ring.delivered == 0
    assert ring.rows_rejected >= N - 1


def test_plausible_rows_that_loop_within_a_read_cost_linear_loads() -> None:
    # Each group is a loop within one read; the pass bound (2N + 16) ended it after 2N passes
    # per group, each with a table scan before the snapshot: N^2 passes in all.
    groups = N // 3
    ring, loads = counted_ring(plausible_rows_in_loops(groups), LOADS_PER_ROW * N)
    assert drain_ring_with_details(ring) == expected_plausible_rows_in_loops(groups)
    assert ring.lost == 2 * groups and ring.delivered == 0
    assert ring.rows_rejected == 0


def test_rows_with_one_entry_then_a_corrupt_one_cost_linear_loads() -> None:
    ring, loads = counted_ring(rows_with_one_entry_then_corrupt(N), LOADS_PER_ROW * N)
    events = []
    while True:
        status, seq, lost, payload, detail = ring.read_next()
        if status == _ring.NO_DATA:
            break
        events.append((status, seq if status == _ring.OK else lost, payload))
    expected = []
    for i in range(N):
        if i:
            expected.append((_ring.LAPPED, 1, b""))
        expected.append((_ring.OK, 2 * i + 1, i.to_bytes(4, "little")))
        expected.append((_ring.CORRUPT, 0, b""))
    assert events == expected
    assert (ring.delivered, ring.lost) == (N, N - 1)


def drain_ring_with_details(ring: _ring.RingReader) -> List[Tuple[str, int]]:
    events: List[Tuple[str, int]] = []
    while True:
        status, _seq, lost, _payload, detail = ring.read_next()
        if status == _ring.NO_DATA:
            return events
        if status == _ring.CORRUPT:
            assert detail == "no progress: the chunk table forms a loop"
        events.append((status, lost))


@pytest.mark.parametrize("corrupt", [True, False], ids=["corrupt-entries", "empty-slots"])
def test_public_reader_delivers_the_reference_stream(corrupt: bool) -> None:
    # The same stream through the public API, on a size where even a quadratic reader is quick,
    # checked event by event against what ouroboros-cli (the C++ ring_reader) prints.
    count = 300
    reader = Reader.from_bytes(rows_at_slots(count, 0x80000002 if corrupt else 0))
    seen: List[Tuple[str, int]] = []
    while True:
        r = reader.read_next()
        if r.status is Status.NO_DATA:
            break
        seen.append((r.status.value, r.lost))
        if r.status is Status.CORRUPT:
            assert r.detail == "reserved entry length 2 or 3"
    assert seen == expected_rows_at_slots(count, corrupt)
    assert (reader.delivered, reader.lost) == (0, count - 1)
