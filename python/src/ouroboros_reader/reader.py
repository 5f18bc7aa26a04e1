"""The public reader: attach to a named segment or a dumped buffer, iterate entries.

Thread-safety: a Reader is not thread-safe; use one per thread (any number of readers, in any
processes, may read the same segment concurrently).
"""

import enum
import errno
import mmap
import os
import stat
import sys
import time
from typing import Any, Iterator, List, Optional, Tuple, Union

from . import _ring
from ._errors import (
    AttachError,
    InvalidNameError,
    NotALogError,
    NotARegularFileError,
    ReaderClosedError,
    SegmentNotFoundError,
    SegmentPermissionError,
)
from ._extension import (
    DictionaryFormats,
    ExtensionInfo,
    clock_seq,
    dictionary_snapshot,
    dictionary_used,
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
    """What a read_next() call found (the C++ read_status, plus the segment's file states)."""

    OK = "ok"
    NO_DATA = "no_data"
    LAPPED = "lapped"
    CORRUPT = "corrupt"
    WRITER_RESTARTED = "writer_restarted"
    #: The segment's file shrank below the mapped size (another process truncated it). Reported
    #: once; the reader then stops reading that mapping (reads give NO_DATA) and re-checks the
    #: name every replaced_check_interval: a new segment under it gives WRITER_RESTARTED, the
    #: size restored on the same segment gives ATTACHED (reading resumes where it stopped).
    SEGMENT_TRUNCATED = "segment_truncated"
    ATTACHED = "attached"


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


class _Context:
    """How a batch of payloads is interpreted: captured when the batch is read, so decoding
    later (lazily) never touches the mapping again."""

    __slots__ = ("records", "clock", "formats")

    def __init__(
        self,
        records: bool,
        clock: Optional[Tuple[int, int, int]],
        formats: Optional[DictionaryFormats] = None,
    ) -> None:
        self.records = records
        self.clock = clock  # None: no calibration could be read
        self.formats = formats  # format strings of deferred records (a dictionary snapshot)


_PLAIN_CONTEXT = _Context(False, None)
_UNDECODED = object()


class Entry:
    """One delivered entry (treat as immutable). ``lost_before`` counts the entries lost
    immediately before it (lapped or skipped as corrupt); ``corrupt_before`` the corrupt events
    just before it; ``restarted`` is True for the first entry read after the segment was
    re-created under the same name (sequence numbers restart then). ``kind``, ``record``,
    ``unix_ns`` and ``error`` are decoded from the payload on first use."""

    __slots__ = (
        "seq",
        "payload",
        "lost_before",
        "corrupt_before",
        "restarted",
        "_context",
        "_kind",
        "_record",
        "_unix_ns",
        "_error",
    )

    def __init__(
        self,
        seq: int,
        payload: bytes,
        kind: Optional[Kind] = None,
        record: Optional[Record] = None,
        unix_ns: Optional[int] = None,
        error: Optional[str] = None,
        lost_before: int = 0,
        corrupt_before: int = 0,
        restarted: bool = False,
        context: _Context = _PLAIN_CONTEXT,
    ) -> None:
        self.seq = seq
        self.payload = payload
        self.lost_before = lost_before
        self.corrupt_before = corrupt_before
        self.restarted = restarted
        self._context = context
        if kind is None:
            self._kind: Any = _UNDECODED  # the other three are set by _decode on first use
        else:
            self._kind = kind
            self._record: Optional[Record] = record
            self._unix_ns: Optional[int] = unix_ns
            self._error: Optional[str] = error

    def _decode(self) -> None:
        context = self._context
        self._record = self._unix_ns = self._error = None
        if not context.records:
            self._kind = Kind.PLAIN
            return
        decoded = decode_record(self.payload, context.formats)
        if isinstance(decoded, str):
            if decoded == NOT_A_RECORD:
                self._kind = Kind.PLAIN
            else:
                self._kind = Kind.MALFORMED
                self._error = decoded
            return
        self._kind = Kind.RECORD
        self._record = decoded
        if not decoded.ticks:
            self._unix_ns = decoded.timestamp
        elif context.clock is not None:
            self._unix_ns = ticks_to_unix_ns(decoded.timestamp, context.clock)

    @property
    def kind(self) -> Kind:
        if self._kind is _UNDECODED:
            self._decode()
        return self._kind  # type: ignore[no-any-return]

    @property
    def record(self) -> Optional[Record]:
        if self._kind is _UNDECODED:
            self._decode()
        return self._record

    @property
    def unix_ns(self) -> Optional[int]:
        """Records: wall-clock nanoseconds since 1970 (None if unknown)."""
        if self._kind is _UNDECODED:
            self._decode()
        return self._unix_ns

    @property
    def error(self) -> Optional[str]:
        """Malformed records: the decoder's reason."""
        if self._kind is _UNDECODED:
            self._decode()
        return self._error

    def __repr__(self) -> str:
        return (
            f"Entry(seq={self.seq}, kind={self.kind.value}, level={self.level}, "
            f"tag={self.tag!r}, message={self.message!r}, lost_before={self.lost_before})"
        )

    _COMPARED = (
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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in Entry._COMPARED)

    __hash__ = None  # type: ignore[assignment]

    @property
    def level(self) -> Optional[Level]:
        record = self.record
        return record.level if record is not None else None

    @property
    def tag(self) -> str:
        record = self.record
        return record.tag if record is not None else ""

    @property
    def thread(self) -> Optional[int]:
        record = self.record
        return record.thread if record is not None else None

    @property
    def fields(self) -> List[Tuple[str, str]]:
        record = self.record
        return list(record.fields) if record is not None else []

    @property
    def message(self) -> str:
        """The record's message, or the payload as text (invalid UTF-8 replaced)."""
        record = self.record
        if record is not None:
            return record.message
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


class ReadBatch:
    """What read_batch found: ``entries`` (consecutive, at least one) when OK; otherwise no
    entries and ``lost`` (LAPPED) or ``detail`` (CORRUPT), exactly as read_next reports it."""

    __slots__ = ("status", "entries", "lost", "detail")

    def __init__(
        self,
        status: Status,
        entries: Optional[List[Entry]] = None,
        lost: int = 0,
        detail: str = "",
    ) -> None:
        self.status = status
        self.entries: List[Entry] = entries if entries is not None else []
        self.lost = lost
        self.detail = detail

    def __repr__(self) -> str:
        return (
            f"ReadBatch({self.status.value}, {len(self.entries)} entries, lost={self.lost}, "
            f"detail={self.detail!r})"
        )


_NO_DATA_BATCH = ReadBatch(Status.NO_DATA)


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


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


# Nothing under the name may block us (a FIFO would, in open()), follow us elsewhere (a symlink)
# or outlive an exec (CLOEXEC).
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC


def _open_regular(path: str, follow_symlinks: bool) -> Tuple[int, os.stat_result]:
    """An open descriptor on a regular file and its fstat. Raises FileNotFoundError,
    PermissionError, NotARegularFileError or another OSError."""
    flags = _OPEN_FLAGS if follow_symlinks else _OPEN_FLAGS | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.EACCES, errno.EPERM):
            raise
        # ELOOP: a symlink refused by O_NOFOLLOW; ENXIO: a socket. Name what is there.
        try:
            st = os.lstat(path) if not follow_symlinks else os.stat(path)
        except OSError:
            raise e from None
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFileError(path, _file_kind(st.st_mode)) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFileError(path, _file_kind(st.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd, st


class _Mapping:
    """A read-only mapping plus its word views, object identity and (live segments) the open
    descriptor whose size tells whether the file shrank under the mapping."""

    def __init__(
        self,
        mm: mmap.mmap,
        identity: Tuple[int, int],
        fd: Optional[int] = None,
        owner_uid: Optional[int] = None,
    ) -> None:
        self.mm = mm
        self.size = len(mm)
        self.view = memoryview(mm)
        self.words = _ring.Words(self.view)
        self.identity = identity
        self.fd = fd
        self.owner_uid = owner_uid

    def intact(self) -> bool:
        """False when the file is now smaller than the mapping: reading the pages past its end
        would raise SIGBUS, which Python cannot catch. A shrink between this check and the
        reads that follow it is not covered (see README.md)."""
        if self.fd is None:
            return True
        try:
            return os.fstat(self.fd).st_size >= self.size
        except OSError:
            return False

    def pread(self, spans: Tuple[Tuple[int, int], ...]) -> Optional[bytes]:
        """The bytes of `spans` ((offset, size), ...) read through the descriptor, not the
        mapping: a shrunk file gives a short read here, never SIGBUS. None without a descriptor,
        on an error or a short read."""
        if self.fd is None:
            return None
        parts = []
        try:
            for offset, size in spans:
                part = os.pread(self.fd, size, offset)
                if len(part) != size:
                    return None
                parts.append(part)
        except OSError:
            return None
        return b"".join(parts)

    def close(self) -> None:
        self.words.release()
        self.view.release()
        self.mm.close()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _map_shm(canonical: str) -> _Mapping:
    if sys.platform == "win32":
        return _map_windows(canonical)
    path = SHM_DIR + canonical
    try:
        fd, st = _open_regular(path, follow_symlinks=False)
    except FileNotFoundError:
        raise SegmentNotFoundError(
            f"segment '{canonical}' does not exist (no writer has created it, or it was removed)"
        ) from None
    except PermissionError as e:
        raise SegmentPermissionError(f"cannot open shared memory '{canonical}': {e}") from None
    try:
        if st.st_size <= 0:
            raise NotALogError("not_a_log", "buffer smaller than the 16-byte header or not 8-byte aligned")
        # MAP_SHARED + PROT_READ: the writer's stores stay visible; the reader can never write.
        mm = mmap.mmap(fd, st.st_size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    except BaseException:
        os.close(fd)
        raise
    return _Mapping(mm, (st.st_dev, st.st_ino), fd, st.st_uid)


def _map_bytes(data: bytes) -> _Mapping:
    # An anonymous page-aligned copy: the same code path and alignment as a live segment.
    if len(data) == 0:
        raise NotALogError("not_a_log", "buffer smaller than the 16-byte header or not 8-byte aligned")
    mm = mmap.mmap(-1, len(data))
    mm.write(data)
    return _Mapping(mm, (0, 0))


def _map_windows(canonical: str) -> _Mapping:
    """The Windows section Local\\NAME (docs/format.md 10.3); identity = (0, incarnation id)."""
    from . import _windows

    try:
        mm, _ = _windows.map_section(canonical)
    except _windows.Missing:
        raise SegmentNotFoundError(
            f"segment '{canonical}' does not exist (no writer has created it, or it was removed)"
        ) from None
    except _windows.Denied:
        raise SegmentPermissionError(f"cannot open shared memory '{canonical}': access denied") from None
    mapping = _Mapping(mm, (0, 0))
    info = read_extension(mapping.words)
    mapping.identity = (0, info.incarnation if info is not None else 0)
    return mapping


def _identity_of(canonical: str) -> Optional[Tuple[int, int]]:
    if sys.platform == "win32":
        try:
            probe = _map_windows(canonical)
        except (SegmentNotFoundError, SegmentPermissionError, OSError):
            return None
        identity = probe.identity
        probe.close()
        return identity
    try:
        st = os.lstat(SHM_DIR + canonical)
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
    #: Entries read (copied and validated) at once at most.
    batch_size = _ring.RingReader.RUN_ENTRIES

    def __init__(self, mapping: _Mapping, name: Optional[str], start: Start) -> None:
        self._map: Optional[_Mapping] = None
        self._name = name
        self._start = Start(start)
        self._pending_lost = 0
        self._pending_corrupt = 0
        self._pending_restart = False
        self._ready: List[Entry] = []  # read, validated, not handed out yet (reversed)
        self._truncated = False
        self._truncation_reported = False
        self._incarnation = 0
        # While idle: the bytes a read that found nothing depended on (buffer header, chunk
        # table, the entry header at the position), read through the descriptor before that
        # read. Unchanged, the next poll finds nothing either without touching the mapping.
        self._idle_probe: Optional[bytes] = None
        self._idle = False
        self._attach(mapping, self._start)
        self._next_check = time.monotonic() + self.replaced_check_interval

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def open(cls, name: str, start: Union[Start, str] = Start.OLDEST) -> "Reader":
        """Maps /dev/shm/NAME read-only and attaches. Only a regular file is opened (no
        symlink, FIFO, directory, socket or device: NotARegularFileError), without blocking."""
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
        """Reads a dumped segment (e.g. a copy of /dev/shm/NAME). OSError if unreadable;
        NotARegularFileError if the path is a FIFO, directory, socket or device."""
        fd, _ = _open_regular(os.fspath(path), follow_symlinks=True)
        with os.fdopen(fd, "rb") as f:
            data = f.read()
        return cls.from_bytes(data, start)

    def _attach(self, mapping: _Mapping, start: Start, restart: bool = False) -> None:
        ring = _ring.RingReader(mapping.words, start.value, count_start_gap=restart)
        if self._map is not None:
            self._map.close()
        self._map = mapping
        self._ring = ring
        words = mapping.words
        self._words = words
        self._ext_base = locate(words)
        info = read_extension(words)
        self._records = info is not None and info.records
        self._incarnation = info.incarnation if info is not None else 0
        self._clock_seq = -1
        self._clock: Optional[Tuple[int, int, int]] = None
        self._context = _Context(self._records, None)
        self._dictionary_used = -1
        self._truncated = False
        self._truncation_reported = False
        self._idle_probe = None
        self._idle = False

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
        return self._live_ring().delivered - len(self._ready)

    @property
    def lost(self) -> int:
        """Entries reported lost since attaching (resets on re-attach)."""
        return self._live_ring().lost

    @property
    def position(self) -> int:
        """Sequence number of the last entry delivered (or of the start position)."""
        if self._ready:
            return self._ready[-1].seq - 1
        return self._live_ring().sequence

    @property
    def chunk_count(self) -> int:
        return self._live_ring().chunk_count

    @property
    def records(self) -> bool:
        """True when the segment says its payloads are log records."""
        return self._records

    @property
    def truncated(self) -> bool:
        """True while the segment's file is smaller than the mapping (Status.SEGMENT_TRUNCATED
        was reported); reading is suspended until the size is restored or the name re-created."""
        return self._truncated

    @property
    def owner_uid(self) -> Optional[int]:
        """The segment file's owner (None for dumps)."""
        self._live_ring()
        assert self._map is not None
        return self._map.owner_uid

    @property
    def mapped_size(self) -> int:
        self._live_ring()
        assert self._map is not None
        return self._map.size

    def extension(self) -> Optional[ExtensionInfo]:
        """The extension block now (None without one, or while the segment is truncated)."""
        self._live_ring()
        if not self._intact():
            return None
        return read_extension(self._words)

    def liveness(self) -> Liveness:
        return Liveness(liveness_of(self.extension()))

    def newest_chunk_token(self) -> int:
        ring = self._live_ring()
        if not self._intact():
            return 0
        return ring.newest_chunk_token()

    def _live_ring(self) -> "_ring.RingReader":
        if self._map is None:
            raise ReaderClosedError("the reader is closed")
        return self._ring

    def _intact(self) -> bool:
        # Every access to the mapping goes through here first (SIGBUS cannot be caught).
        if self._truncated:
            return False
        assert self._map is not None
        if self._map.intact():
            return True
        self._truncated = True
        return False

    # -- reading -----------------------------------------------------------------------------
    def read_next(self) -> ReadResult:
        """The next entry, or why there is none. Never blocks; never raises on bad bytes."""
        ready = self._ready
        if ready:
            return ReadResult(_OK, ready.pop())
        batch = self.read_batch()
        if batch.status is _OK:
            entries = batch.entries
            if len(entries) > 1:
                entries.reverse()
                entry = entries.pop()
                self._ready = entries
                return ReadResult(_OK, entry)
            return ReadResult(_OK, entries[0])
        return ReadResult(batch.status, lost=batch.lost, detail=batch.detail)

    def read_batch(self, max_entries: Optional[int] = None) -> ReadBatch:
        """Up to `max_entries` (default batch_size) consecutive entries at once, or why there
        are none (the same statuses as read_next). The fast way to follow a busy segment."""
        ring = self._live_ring()
        ready = self._ready
        if ready:
            ready.reverse()
            self._ready = []
            return ReadBatch(_OK, ready)
        # An idle follower polls many times a second. Each poll through the mapping is a window
        # in which a shrink of the file kills the process (README: residual race); while
        # nothing changes, the polls read only through the descriptor.
        probe = None
        if self._idle and not self._truncated:
            probe = self._probe_bytes()
            if probe is not None and probe == self._idle_probe:
                return self._no_data()
        if self._truncated or not self._intact():
            # Reported once, whichever read of the mapping noticed it first (extension() too).
            if not self._truncation_reported:
                self._truncation_reported = True
                return ReadBatch(Status.SEGMENT_TRUNCATED)
            return self._while_truncated()
        status, first, lost, payloads, detail = ring.read_run(
            True, max_entries if max_entries else self.batch_size
        )
        # The probe was read before this read: if it found nothing, nothing changed since.
        self._idle = status is _ring.NO_DATA
        self._idle_probe = probe if self._idle else None
        if status is _ring.OK:
            assert payloads is not None
            context = self._batch_context()
            if self._pending_lost or self._pending_corrupt or self._pending_restart:
                head = Entry(
                    first,
                    payloads[0],
                    None,
                    None,
                    None,
                    None,
                    self._pending_lost,
                    self._pending_corrupt,
                    self._pending_restart,
                    context,
                )
                self._pending_lost = self._pending_corrupt = 0
                self._pending_restart = False
                entries = [head]
                entries.extend(
                    Entry(seq, p, None, None, None, None, 0, 0, False, context)
                    for seq, p in zip(range(first + 1, first + len(payloads)), payloads[1:])
                )
            else:
                entries = [
                    Entry(seq, p, None, None, None, None, 0, 0, False, context)
                    for seq, p in zip(range(first, first + len(payloads)), payloads)
                ]
            return ReadBatch(_OK, entries)
        if status is _ring.NO_DATA:
            return self._no_data()
        if status == _ring.LAPPED:
            return ReadBatch(Status.LAPPED, lost=lost)
        return ReadBatch(Status.CORRUPT, detail=detail)

    def _no_data(self) -> ReadBatch:
        if self._name is not None:
            now = time.monotonic()
            if now >= self._next_check:
                self._next_check = now + self.replaced_check_interval
                if self.check_replaced():
                    return ReadBatch(Status.WRITER_RESTARTED)
        return _NO_DATA_BATCH

    def _probe_bytes(self) -> Optional[bytes]:
        assert self._map is not None
        ring = self._ring
        table_end = _ring.HEADER_SIZE + _ring.ROW_SIZE * ring.chunk_count
        position = ring.offset
        spans: Tuple[Tuple[int, int], ...] = ((0, table_end),)
        if position + _ring.ENTRY_HEADER <= self._map.size:
            spans += ((position, _ring.ENTRY_HEADER),)
        return self._map.pread(spans)

    def _batch_context(self) -> _Context:
        # Tick timestamps are converted with the calibration in force when the batch was read.
        if not self._records:
            return self._context
        base = self._ext_base
        if base is None:
            return self._context
        seq = clock_seq(self._words, base)
        if seq != self._clock_seq:
            clock = read_clock(self._words, base)
            if clock is not None:
                self._clock = clock
                self._clock_seq = seq
                self._context = _Context(True, clock, self._context.formats)
        # Deferred records name format strings in the dictionary: snapshot it when it grew (one
        # load per batch otherwise), after the batch's entries were read.
        used = dictionary_used(self._words, base)
        formats = self._context.formats
        if formats is None or used != self._dictionary_used:
            snapshot = dictionary_snapshot(self._words, base)
            self._dictionary_used = used
            formats = DictionaryFormats(snapshot) if formats is None else formats.grown(snapshot)
            self._context = _Context(True, self._context.clock, formats)
        return self._context

    def _while_truncated(self) -> ReadBatch:
        """Suspended on a truncated segment: every replaced_check_interval, look whether the
        name holds a new segment (restart) or the same one at its full size again (resume)."""
        if self._name is None:
            return _NO_DATA_BATCH
        now = time.monotonic()
        if now < self._next_check:
            return _NO_DATA_BATCH
        self._next_check = now + self.replaced_check_interval
        if self.check_replaced():
            return ReadBatch(Status.WRITER_RESTARTED)
        assert self._map is not None
        if not self._map.intact():
            return _NO_DATA_BATCH
        info = read_extension(self._words)
        if (info.incarnation if info is not None else 0) != self._incarnation:
            # Same object, formatted again in place: read it as a new incarnation.
            return (
                ReadBatch(Status.WRITER_RESTARTED)
                if self._reattach_name(force=True)
                else _NO_DATA_BATCH
            )
        self._truncated = self._truncation_reported = False
        return ReadBatch(Status.ATTACHED)

    def check_replaced(self) -> bool:
        """Re-checks the name now; True (and re-attached at the oldest entry) if it refers to a
        new segment. A new segment that is not attachable yet is retried later. Entries of the
        new segment before its oldest one are reported lost (a LAPPED result on the next read)."""
        if self._name is None or self._map is None or self._ready:
            return False  # entries of the current segment are still to be handed out
        identity = _identity_of(self._name)
        if identity is None or identity == self._map.identity:
            return False
        return self._reattach_name()

    def _reattach_name(self, force: bool = False) -> bool:
        assert self._name is not None
        try:
            mapping = _map_shm(self._name)
        except (OSError, AttachError):
            return False
        if not force and self._map is not None and mapping.identity == self._map.identity:
            mapping.close()
            return False
        try:
            self._attach(mapping, Start.OLDEST, restart=True)
        except AttachError:
            mapping.close()  # the new writer has not finished formatting it
            return False
        self._pending_restart = True
        return True

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
            elif result.status is Status.SEGMENT_TRUNCATED:
                return None

    def follow(
        self,
        poll_interval: float = 0.01,
        stop_when_writer_done: bool = True,
        timeout: Optional[float] = None,
        done_grace: float = 0.5,
    ) -> Iterator[Entry]:
        """Yields entries as they arrive. Stops when the writer closed or is gone, every entry
        it wrote was read and no new segment appeared under the name within `done_grace`
        seconds (if stop_when_writer_done), or after `timeout` seconds. A truncated segment is
        waited for (restored or re-created) like a writer that has nothing to say."""
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
            self._ready = []

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
