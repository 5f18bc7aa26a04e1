"""The public reader: attach to a named segment or a dumped buffer, iterate entries.

Thread-safety: a Reader is not thread-safe; use one per thread (any number of readers, in any
processes, may read the same segment concurrently).
"""

import enum
import mmap
import os
import time
from typing import Iterator, List, Optional, Tuple, Union

from . import _ring
from ._errors import (
    AttachError,
    InvalidNameError,
    NotALogError,
    ReaderClosedError,
    SegmentNotFoundError,
    SegmentPermissionError,
)
from ._extension import (
    ExtensionInfo,
    clock_seq,
    liveness_of,
    locate,
    read_clock,
    read_extension,
    ticks_to_unix_ns,
)
from .records import NOT_A_RECORD, Level, Record, decode_record

SHM_DIR = "/dev/shm"
#: While following, how often (seconds) to ask whether the writer is done.
LIVENESS_CHECK_INTERVAL = 0.02


class Status(str, enum.Enum):
    """What a read_next() call found (the C++ read_status)."""

    OK = "ok"
    NO_DATA = "no_data"
    LAPPED = "lapped"
    CORRUPT = "corrupt"
    WRITER_RESTARTED = "writer_restarted"


_OK = Status.OK


class Start(str, enum.Enum):
    OLDEST = "oldest"  # the oldest entry still intact (full history)
    NEWEST = "newest"  # the start of the newest chunk (recent entries)
    NOW = "now"  # only entries written after attaching (tail)


class Liveness(str, enum.Enum):
    UNKNOWN = "unknown"  # no extension block (another v1 writer): cannot tell
    ALIVE = "alive"
    CLOSED = "closed"  # the writer shut down cleanly
    GONE = "gone"  # the writer process no longer exists


class Kind(str, enum.Enum):
    RECORD = "record"  # a decoded log record
    PLAIN = "plain"  # opaque bytes
    MALFORMED = "malformed"  # starts like a record but does not decode: see Entry.error


class Entry:
    """One delivered entry (treat as immutable). ``lost_before`` counts the entries lost
    immediately before it (lapped or skipped as corrupt); ``corrupt_before`` the corrupt events
    just before it; ``restarted`` is True for the first entry read after the segment was
    re-created under the same name (sequence numbers restart then)."""

    __slots__ = (
        "seq",
        "payload",
        "kind",
        "record",
        "unix_ns",
        "error",
        "lost_before",
        "corrupt_before",
        "restarted",
    )

    def __init__(
        self,
        seq: int,
        payload: bytes,
        kind: Kind,
        record: Optional[Record] = None,
        unix_ns: Optional[int] = None,
        error: Optional[str] = None,
        lost_before: int = 0,
        corrupt_before: int = 0,
        restarted: bool = False,
    ) -> None:
        self.seq = seq
        self.payload = payload
        self.kind = kind
        self.record = record
        self.unix_ns = unix_ns  # records: wall-clock nanoseconds since 1970 (None if unknown)
        self.error = error  # malformed: the decoder's reason
        self.lost_before = lost_before
        self.corrupt_before = corrupt_before
        self.restarted = restarted

    def __repr__(self) -> str:
        return (
            f"Entry(seq={self.seq}, kind={self.kind.value}, level={self.level}, "
            f"tag={self.tag!r}, message={self.message!r}, lost_before={self.lost_before})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in Entry.__slots__)

    __hash__ = None  # type: ignore[assignment]

    @property
    def level(self) -> Optional[Level]:
        return self.record.level if self.record is not None else None

    @property
    def tag(self) -> str:
        return self.record.tag if self.record is not None else ""

    @property
    def thread(self) -> Optional[int]:
        return self.record.thread if self.record is not None else None

    @property
    def fields(self) -> List[Tuple[str, str]]:
        return list(self.record.fields) if self.record is not None else []

    @property
    def message(self) -> str:
        """The record's message, or the payload as text (invalid UTF-8 replaced)."""
        if self.record is not None:
            return self.record.message
        return self.payload.decode("utf-8", "replace")


class ReadResult:
    """What read_next found: ``entry`` when OK, ``lost`` when LAPPED, ``detail`` when CORRUPT."""

    __slots__ = ("status", "entry", "lost", "detail")

    def __init__(
        self, status: Status, entry: Optional[Entry] = None, lost: int = 0, detail: str = ""
    ) -> None:
        self.status = status
        self.entry = entry
        self.lost = lost
        self.detail = detail

    def __repr__(self) -> str:
        return f"ReadResult({self.status.value}, entry={self.entry!r}, lost={self.lost}, detail={self.detail!r})"


_NO_DATA = ReadResult(Status.NO_DATA)


def canonical_name(name: str) -> str:
    """The name with a leading '/', validated like the C++ canonical_segment_name."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError("segment name is empty")
    canonical = name if name.startswith("/") else "/" + name
    if len(canonical) == 1:
        raise InvalidNameError("segment name '/' has no characters after '/'")
    if len(canonical.encode("utf-8", "surrogateescape")) > 255:
        raise InvalidNameError(f"segment name is {len(canonical)} bytes long; the limit is 255")
    if "/" in canonical[1:]:
        raise InvalidNameError(f"segment name '{name}' contains '/' after the first character")
    if "\0" in canonical:
        raise InvalidNameError("segment name contains a NUL byte")
    if canonical in ("/.", "/.."):
        raise InvalidNameError(f"segment name '{canonical}' is reserved")
    return canonical


class _Mapping:
    """A read-only mapping plus its word views and object identity."""

    def __init__(self, mm: mmap.mmap, identity: Tuple[int, int]) -> None:
        self.mm = mm
        self.view = memoryview(mm)
        self.words = _ring.Words(self.view)
        self.identity = identity

    def close(self) -> None:
        self.words.release()
        self.view.release()
        self.mm.close()


def _map_shm(canonical: str) -> _Mapping:
    path = SHM_DIR + canonical
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SegmentNotFoundError(
            f"segment '{canonical}' does not exist (no writer has created it, or it was removed)"
        ) from None
    except PermissionError as e:
        raise SegmentPermissionError(f"cannot open shared memory '{canonical}': {e}") from None
    try:
        st = os.fstat(fd)
        if st.st_size <= 0:
            raise NotALogError("not_a_log", "buffer smaller than the 16-byte header or not 8-byte aligned")
        # MAP_SHARED + PROT_READ: the writer's stores stay visible; the reader can never write.
        mm = mmap.mmap(fd, st.st_size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        return _Mapping(mm, (st.st_dev, st.st_ino))
    finally:
        os.close(fd)


def _map_bytes(data: bytes) -> _Mapping:
    # An anonymous page-aligned copy: the same code path and alignment as a live segment.
    if len(data) == 0:
        raise NotALogError("not_a_log", "buffer smaller than the 16-byte header or not 8-byte aligned")
    mm = mmap.mmap(-1, len(data))
    mm.write(data)
    return _Mapping(mm, (0, 0))


def _identity_of(canonical: str) -> Optional[Tuple[int, int]]:
    try:
        st = os.stat(SHM_DIR + canonical)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class Reader:
    """Reads a v1 ring log: a named shared-memory segment (live) or a dumped buffer.

    Use :meth:`open`, :meth:`from_file` or :meth:`from_bytes`. Iterating yields the entries
    available now; :meth:`follow` waits for new ones. Attach failures raise AttachError
    subclasses; reading never raises on any segment content (corruption is reported as
    Status.CORRUPT and skipped, with exact loss accounting). Not thread-safe.
    """

    #: While there is no data, how often (seconds) to check whether the name was re-created.
    replaced_check_interval = 0.25

    def __init__(self, mapping: _Mapping, name: Optional[str], start: Start) -> None:
        self._map: Optional[_Mapping] = None
        self._name = name
        self._start = Start(start)
        self._attach(mapping, self._start)
        self._next_check = time.monotonic() + self.replaced_check_interval
        self._pending_lost = 0
        self._pending_corrupt = 0
        self._pending_restart = False

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def open(cls, name: str, start: Union[Start, str] = Start.OLDEST) -> "Reader":
        """Maps /dev/shm/NAME read-only and attaches."""
        canonical = canonical_name(name)
        mapping = _map_shm(canonical)
        try:
            return cls(mapping, canonical, Start(start))
        except BaseException:
            mapping.close()
            raise

    @classmethod
    def from_bytes(cls, data: bytes, start: Union[Start, str] = Start.OLDEST) -> "Reader":
        mapping = _map_bytes(bytes(data))
        try:
            return cls(mapping, None, Start(start))
        except BaseException:
            mapping.close()
            raise

    @classmethod
    def from_file(
        cls, path: Union[str, "os.PathLike[str]"], start: Union[Start, str] = Start.OLDEST
    ) -> "Reader":
        """Reads a dumped segment (e.g. a copy of /dev/shm/NAME). OSError if unreadable."""
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_bytes(data, start)

    def _attach(self, mapping: _Mapping, start: Start) -> None:
        ring = _ring.RingReader(mapping.words, start.value)  # raises AttachError
        if self._map is not None:
            self._map.close()
        self._map = mapping
        self._ring = ring
        words = mapping.words
        self._words = words
        self._ext_base = locate(words)
        info = read_extension(words)
        self._records = info is not None and info.records
        self._clock_seq = -1
        self._clock = (0, 0, 1 << 32)

    # -- state -------------------------------------------------------------------------------
    @property
    def name(self) -> Optional[str]:
        return self._name

    @property
    def closed(self) -> bool:
        return self._map is None

    @property
    def delivered(self) -> int:
        """Entries delivered since attaching (resets on re-attach)."""
        return self._live_ring().delivered

    @property
    def lost(self) -> int:
        """Entries reported lost since attaching (resets on re-attach)."""
        return self._live_ring().lost

    @property
    def position(self) -> int:
        """Sequence number of the last entry delivered (or of the start position)."""
        return self._live_ring().sequence

    @property
    def chunk_count(self) -> int:
        return self._live_ring().chunk_count

    @property
    def records(self) -> bool:
        """True when the segment says its payloads are log records."""
        return self._records

    def extension(self) -> Optional[ExtensionInfo]:
        self._live_ring()
        return read_extension(self._words)

    def liveness(self) -> Liveness:
        return Liveness(liveness_of(self.extension()))

    def newest_chunk_token(self) -> int:
        return self._live_ring().newest_chunk_token()

    def _live_ring(self) -> "_ring.RingReader":
        if self._map is None:
            raise ReaderClosedError("the reader is closed")
        return self._ring

    # -- reading -----------------------------------------------------------------------------
    def read_next(self) -> ReadResult:
        """The next entry, or why there is none. Never blocks; never raises on bad bytes."""
        ring = self._live_ring()
        status, seq, lost, payload, detail = ring.read_next()
        if status is _ring.OK:
            return ReadResult(_OK, self._interpret(seq, payload))
        if status is _ring.NO_DATA:
            if self._name is not None:
                now = time.monotonic()
                if now >= self._next_check:
                    self._next_check = now + self.replaced_check_interval
                    if self.check_replaced():
                        return ReadResult(Status.WRITER_RESTARTED)
            return _NO_DATA
        if status == _ring.LAPPED:
            return ReadResult(Status.LAPPED, lost=lost)
        return ReadResult(Status.CORRUPT, detail=detail)

    def check_replaced(self) -> bool:
        """Re-checks the name now; True (and re-attached at the oldest entry) if it refers to a
        new segment. A new segment that is not attachable yet is retried later."""
        if self._name is None or self._map is None:
            return False
        identity = _identity_of(self._name)
        if identity is None or identity == self._map.identity:
            return False
        try:
            mapping = _map_shm(self._name)
        except OSError:
            return False
        except AttachError:
            return False
        try:
            self._attach(mapping, Start.OLDEST)
        except AttachError:
            mapping.close()  # the new writer has not finished formatting it
            return False
        self._pending_restart = True
        return True

    def _interpret(self, seq: int, payload: bytes) -> Entry:
        lost, corrupt, restarted = self._pending_lost, self._pending_corrupt, self._pending_restart
        self._pending_lost = self._pending_corrupt = 0
        self._pending_restart = False
        if not self._records:
            return Entry(seq, payload, Kind.PLAIN, None, None, None, lost, corrupt, restarted)
        decoded = decode_record(payload)
        if isinstance(decoded, str):
            if decoded == NOT_A_RECORD:
                return Entry(seq, payload, Kind.PLAIN, None, None, None, lost, corrupt, restarted)
            return Entry(seq, payload, Kind.MALFORMED, None, None, decoded, lost, corrupt, restarted)
        unix_ns: Optional[int] = decoded.timestamp
        if decoded.ticks:
            unix_ns = self._ticks_to_unix_ns(decoded.timestamp)
        return Entry(seq, payload, Kind.RECORD, decoded, unix_ns, None, lost, corrupt, restarted)

    def _ticks_to_unix_ns(self, ticks: int) -> Optional[int]:
        base = self._ext_base
        if base is None:
            return None
        seq = clock_seq(self._words, base)
        if seq != self._clock_seq:
            clock = read_clock(self._words, base)
            if clock is not None:
                self._clock = clock
                self._clock_seq = seq
            elif self._clock_seq == -1:
                return None  # never read a calibration and the writer keeps updating it
        return ticks_to_unix_ns(ticks, self._clock)

    def __iter__(self) -> Iterator[Entry]:
        """Entries available now; stops at "no data". Gaps, corruption and re-creation are
        folded into the next Entry (lost_before, corrupt_before, restarted)."""
        while True:
            entry = self._next_entry()
            if entry is None:
                return
            yield entry

    def _next_entry(self) -> Optional[Entry]:
        while True:
            result = self.read_next()
            if result.status is Status.OK:
                return result.entry
            if result.status is Status.NO_DATA:
                return None
            if result.status is Status.LAPPED:
                self._pending_lost += result.lost
            elif result.status is Status.CORRUPT:
                self._pending_corrupt += 1
            elif result.status is Status.WRITER_RESTARTED:
                self._pending_restart = True

    def follow(
        self,
        poll_interval: float = 0.01,
        stop_when_writer_done: bool = True,
        timeout: Optional[float] = None,
        done_grace: float = 0.5,
    ) -> Iterator[Entry]:
        """Yields entries as they arrive. Stops when the writer closed or is gone, every entry
        it wrote was read and no new segment appeared under the name within `done_grace`
        seconds (if stop_when_writer_done), or after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        next_liveness = 0.0
        done_since: Optional[float] = None
        while True:
            entry = self._next_entry()
            if entry is not None:
                done_since = None
                yield entry
                continue
            now = time.monotonic()
            # Liveness reads /proc: ask at most every LIVENESS_CHECK_INTERVAL so polling is cheap.
            check = stop_when_writer_done and now >= next_liveness
            if check:
                next_liveness = now + LIVENESS_CHECK_INTERVAL
            if check and self.liveness() in (Liveness.CLOSED, Liveness.GONE):
                # The closed flag is stored after the last entry: drain once more, then stop
                # unless the name now holds a new writer's segment.
                drained = False
                for entry in self:
                    drained = True
                    yield entry
                if drained or self.check_replaced():
                    done_since = None
                    continue
                # A writer that re-creates its segment closes the old one and unlinks the name
                # just before creating the new one: give a successor done_grace to appear.
                if done_since is None:
                    done_since = now
                elif now - done_since >= done_grace:
                    return
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(poll_interval)

    # -- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def open_segment(name: str, start: Union[Start, str] = Start.OLDEST) -> Reader:
    """Shorthand for Reader.open."""
    return Reader.open(name, start)
