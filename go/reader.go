package ouroboros

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"
)

// Start says where a new reader begins.
type Start int

const (
	Oldest Start = iota // the oldest entry still intact (full history)
	Newest              // the start of the newest chunk (recent entries)
	Now                 // only entries written after attaching (tail)
)

// ParseStart accepts "oldest", "newest" and "now".
func ParseStart(s string) (Start, error) {
	switch s {
	case "oldest":
		return Oldest, nil
	case "newest":
		return Newest, nil
	case "now":
		return Now, nil
	}
	return Oldest, fmt.Errorf("unknown start mode %q (oldest, newest, now)", s)
}

func (s Start) String() string {
	switch s {
	case Newest:
		return "newest"
	case Now:
		return "now"
	}
	return "oldest"
}

// Status says what a Next call found.
type Status int

const (
	OK               Status = iota // Event.Entry is set
	NoData                         // nothing new yet
	Lapped                         // Event.Lost entries were overwritten before they could be read
	Corrupt                        // the segment broke the format (Event.Detail); the reader resyncs
	WriterRestarted                // the name now holds a new segment; re-attached at its oldest entry
	SegmentTruncated               // the file shrank under the mapping (Event.Detail, Event.Err); nothing more is read from it
	Reattached                     // a truncated segment regained its size: mapped again, reading on from where it was
)

func (s Status) String() string {
	names := [...]string{"ok", "no_data", "lapped", "corrupt", "writer_restarted", "segment_truncated", "reattached"}
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Kind of an entry's payload.
type Kind int

const (
	Plain      Kind = iota // opaque bytes
	KindRecord             // a decoded log record
	Malformed              // starts like a record but does not decode: see Entry.Error
)

func (k Kind) String() string { return [...]string{"plain", "record", "malformed"}[k] }

// Entry is one delivered entry. Payload is the reader's own copy.
type Entry struct {
	Seq     uint64
	Payload []byte
	Kind    Kind
	Record  *Record // KindRecord
	UnixNs  uint64  // KindRecord with HasTime: wall-clock nanoseconds since 1970
	HasTime bool
	Error   error // Malformed: the decoder's reason (ErrTruncated, ...)
	// Set by Wait: what happened between the previous entry and this one.
	LostBefore    uint64
	CorruptBefore int
	Restarted     bool
}

// Message is the record's message, or the payload as text.
func (e *Entry) Message() string {
	if e.Record != nil {
		return e.Record.Message
	}
	return strings.ToValidUTF8(string(e.Payload), "\uFFFD")
}

// Event is the result of one Next call.
type Event struct {
	Status Status
	Entry  *Entry // OK
	Lost   uint64 // Lapped; WriterRestarted: see Lapped after it
	Detail string // Corrupt, SegmentTruncated
	Err    error  // SegmentTruncated: a *TruncatedError
}

// Reader reads a v1 ring log. Not safe for concurrent use.
type Reader struct {
	name    string // canonical, "" for buffers
	m       *mapping
	ring    *ring
	records bool
	extAt   int
	hasExt  bool

	clockSeq   uint64
	clockValid bool
	formats    map[uint32]*DeferredFormat // by dictionary id (deferred records)
	clock      Clock

	nextCheck    time.Time
	nextLiveness time.Time
	doneSince    time.Time
	// DoneGrace: how long Wait keeps polling after the writer closed or died before it returns
	// io.EOF, in case a new writer re-creates the segment (default 500 ms).
	DoneGrace time.Duration
	// ReplacedCheckInterval: while there is no data, how often to check whether the name was
	// re-created (default 250 ms).
	ReplacedCheckInterval time.Duration

	pendingLost    uint64
	pendingCorrupt int
	pendingRestart bool

	// The extension block as last read: what Liveness goes by once the mapping is gone.
	ext   ExtensionInfo
	extOK bool

	// Set when an access to the mapping faulted (the file shrank): nothing more is read from it.
	truncated         *TruncatedError
	truncatedReported bool
}

// CanonicalName validates a segment name like the C++ canonical_segment_name and returns it with
// a leading '/'.
func CanonicalName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: segment name is empty", ErrInvalidName)
	}
	c := name
	if c[0] != '/' {
		c = "/" + c
	}
	switch {
	case len(c) == 1:
		return "", fmt.Errorf("%w: segment name '/' has no characters after '/'", ErrInvalidName)
	case len(c) > 255:
		return "", fmt.Errorf("%w: segment name is %d bytes long; the limit is 255", ErrInvalidName, len(c))
	case strings.Contains(c[1:], "/"):
		return "", fmt.Errorf("%w: segment name '%s' contains '/' after the first character", ErrInvalidName, name)
	case strings.ContainsRune(c, 0):
		return "", fmt.Errorf("%w: segment name contains a NUL byte", ErrInvalidName)
	case c == "/." || c == "/..":
		return "", fmt.Errorf("%w: segment name '%s' is reserved", ErrInvalidName, c)
	}
	return c, nil
}

// livenessCheckInterval: how often Wait asks whether the writer is done while there is no data.
const livenessCheckInterval = 20 * time.Millisecond

// NewReader maps the named segment (/dev/shm/NAME) read-only and attaches at the oldest entry.
func NewReader(name string) (*Reader, error) { return Open(name, Oldest) }

// Open maps the named segment read-only and attaches at `start`.
func Open(name string, start Start) (*Reader, error) {
	canonical, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	m, err := mapSegment(canonical)
	if err != nil {
		return nil, err
	}
	r := &Reader{name: canonical, ReplacedCheckInterval: 250 * time.Millisecond, DoneGrace: 500 * time.Millisecond}
	if err := r.attach(m, start); err != nil {
		m.close()
		return nil, err
	}
	return r, nil
}

// FromBytes reads a buffer held in memory (e.g. a dumped segment). The bytes are copied.
func FromBytes(data []byte, start Start) (*Reader, error) {
	m := &mapping{b: alignedCopy(data)}
	r := &Reader{ReplacedCheckInterval: 250 * time.Millisecond, DoneGrace: 500 * time.Millisecond}
	if err := r.attach(m, start); err != nil {
		return nil, err
	}
	return r, nil
}

// FromFile reads a dumped segment file (a regular file: a FIFO is refused, never waited on).
func FromFile(path string, start Start) (*Reader, error) {
	data, err := readRegularFile(path)
	if err != nil {
		return nil, err
	}
	return FromBytes(data, start)
}

// attach makes m the reader's mapping. Everything that reads m here runs under a fault guard:
// the file may shrink between its fstat and these reads.
func (r *Reader) attach(m *mapping, start Start) (err error) {
	defer func(old bool) {
		debug.SetPanicOnFault(old)
		if p := recover(); p != nil {
			if !m.faulted(p) {
				panic(p)
			}
			err = r.truncatedError(m)
		}
	}(debug.SetPanicOnFault(true))
	rg, err := newRing(m.b, start)
	if err != nil {
		return err
	}
	extAt, hasExt := locateExtension(m.b)
	info, ok := readExtension(m.b)
	if r.m != nil {
		r.m.close()
	}
	r.m = m
	r.ring = rg
	r.extAt, r.hasExt = extAt, hasExt
	r.formats = nil // parsed format strings belong to the segment
	r.ext, r.extOK = info, ok
	r.records = ok && info.Records()
	r.clockValid = false
	r.truncated, r.truncatedReported = nil, false
	r.nextCheck = time.Now().Add(r.ReplacedCheckInterval)
	return nil
}

func (r *Reader) truncatedError(m *mapping) *TruncatedError {
	e := &TruncatedError{Segment: r.name, Mapped: len(m.b), Size: -1}
	if dev, ino, size, ok := nameState(r.name); ok && dev == m.dev && ino == m.ino {
		e.Size = size
	}
	return e
}

// guard is deferred around every read of the mapping (with the previous SetPanicOnFault
// setting): a fault inside the mapping means the file shrank; the reader stops reading it.
// Faults anywhere else are not ours and keep panicking.
func (r *Reader) guard(old bool, ev *Event) {
	debug.SetPanicOnFault(old)
	if p := recover(); p != nil {
		if !r.m.faulted(p) {
			panic(p)
		}
		r.markTruncated()
		if ev != nil {
			*ev = r.nextTruncated()
		}
	}
}

func (r *Reader) markTruncated() {
	if r.truncated == nil {
		r.truncated = r.truncatedError(r.m)
		r.truncatedReported = false
		r.nextCheck = time.Now().Add(r.ReplacedCheckInterval)
	}
}

// Name is the canonical segment name ("" for buffers).
func (r *Reader) Name() string { return r.name }

// Delivered and Lost count entries since attaching (reset on re-attach).
func (r *Reader) Delivered() uint64 { return r.ring.delivered }
func (r *Reader) Lost() uint64      { return r.ring.lost }

// RowsRejected counts the rows that table snapshots judged implausible since attaching
// (docs/format.md section 7.7): rows no correct writer can have left. 0 for a correct writer.
func (r *Reader) RowsRejected() uint64 { return r.ring.rowsRejected }

// Position is the sequence number of the last entry delivered (or of the start position).
func (r *Reader) Position() uint64 { return r.ring.seq }

// Records reports whether the segment says its payloads are log records.
func (r *Reader) Records() bool { return r.records }

// NewestChunkToken is the number of entries written as far as the chunk table tells (the
// reader's position once the segment was truncated).
func (r *Reader) NewestChunkToken() (token uint64) {
	if r.m == nil {
		return 0
	}
	if r.truncated != nil {
		return r.ring.seq
	}
	defer r.guard(debug.SetPanicOnFault(true), nil)
	token = r.ring.seq
	token = r.ring.newestChunkToken()
	return token
}

// Extension reads the extension block (false when absent or malformed); once the segment was
// truncated, the block as last read.
func (r *Reader) Extension() (info ExtensionInfo, ok bool) {
	if r.m == nil {
		return ExtensionInfo{}, false
	}
	if r.truncated != nil {
		return r.ext, r.extOK
	}
	defer r.guard(debug.SetPanicOnFault(true), nil)
	info, ok = r.ext, r.extOK
	r.ext, r.extOK = readExtension(r.m.b)
	return r.ext, r.extOK
}

// Liveness tells whether the writer is alive, closed or gone.
func (r *Reader) Liveness() Liveness { return livenessOf(r.Extension()) }

// Truncated is the truncation seen on the current mapping, or nil.
func (r *Reader) Truncated() *TruncatedError { return r.truncated }

// MappedSize is the number of bytes mapped (the file's size when it was opened); 0 once closed.
func (r *Reader) MappedSize() int {
	if r.m == nil {
		return 0
	}
	return len(r.m.b)
}

// Owner is the uid owning the segment's file when it was mapped (false for buffers).
func (r *Reader) Owner() (uint32, bool) {
	if r.m == nil || !r.m.mmapped {
		return 0, false
	}
	return r.m.uid, true
}

// Next returns the next entry or why there is none. It never blocks and never fails on segment
// content; the only error is ErrClosed.
func (r *Reader) Next() (ev Event, err error) {
	if r.m == nil {
		return Event{}, ErrClosed
	}
	if r.truncated != nil {
		return r.nextTruncated(), nil
	}
	// The previous setting comes back when Next returns; a fault in the mapping ends in guard,
	// which turns ev into the SegmentTruncated report.
	defer r.guard(debug.SetPanicOnFault(true), &ev)
	res := r.ring.next()
	switch res.status {
	case ringOK:
		return Event{Status: OK, Entry: r.interpret(res.seq, res.payload)}, nil
	case ringLapped:
		return Event{Status: Lapped, Lost: res.lost}, nil
	case ringCorrupt:
		return Event{Status: Corrupt, Detail: res.detail}, nil
	}
	if r.name != "" {
		now := time.Now()
		if !now.Before(r.nextCheck) {
			r.nextCheck = now.Add(r.ReplacedCheckInterval)
			if r.CheckReplaced() {
				return Event{Status: WriterRestarted}, nil
			}
		}
	}
	return Event{Status: NoData}, nil
}

// nextTruncated: report the truncation once, then look at the name now and then: a new
// segment under it is a restart; the same file back at its full size is mapped again.
func (r *Reader) nextTruncated() Event {
	if !r.truncatedReported {
		r.truncatedReported = true
		return Event{Status: SegmentTruncated, Detail: r.truncated.Error(), Err: r.truncated}
	}
	if r.name == "" {
		return Event{Status: NoData}
	}
	now := time.Now()
	if now.Before(r.nextCheck) {
		return Event{Status: NoData}
	}
	r.nextCheck = now.Add(r.ReplacedCheckInterval)
	if r.CheckReplaced() {
		return Event{Status: WriterRestarted}
	}
	dev, ino, size, ok := nameState(r.name)
	if !ok || dev != r.m.dev || ino != r.m.ino || size < int64(len(r.m.b)) {
		return Event{Status: NoData}
	}
	m, err := mapSegment(r.name)
	if err != nil || m.dev != r.m.dev || m.ino != r.m.ino {
		if err == nil {
			m.close()
		}
		return Event{Status: NoData}
	}
	old := r.ring
	if err := r.attach(m, Oldest); err != nil {
		m.close()
		return Event{Status: NoData}
	}
	// Same incarnation: go on after the last entry delivered (resync from there), keeping the
	// counts, so nothing is delivered twice and what is gone is counted lost.
	r.ring.seq = old.seq
	r.ring.delivered, r.ring.lost = old.delivered, old.lost
	r.ring.scheduleResync(old.seq, false)
	r.ring.resyncLoss = true
	return Event{Status: Reattached}
}

// CheckReplaced re-checks the name now; true (and re-attached at the oldest entry) if it refers
// to a new segment. A new segment that is not attachable yet is retried later. The next Next
// reports the entries the new incarnation overwrote before the reader attached (Lapped), so
// delivered + lost stays equal to written across restarts.
func (r *Reader) CheckReplaced() bool {
	if r.name == "" || r.m == nil {
		return false
	}
	dev, ino, _, ok := nameState(r.name)
	if !ok || (dev == r.m.dev && ino == r.m.ino) {
		return false
	}
	m, err := mapSegment(r.name)
	if err != nil {
		return false
	}
	if err := r.attach(m, Oldest); err != nil {
		m.close()
		return false
	}
	r.ring.countFromFirstEntry()
	r.pendingRestart = true
	return true
}

func (r *Reader) interpret(seq uint64, payload []byte) *Entry {
	e := &Entry{Seq: seq, Payload: payload, Kind: Plain}
	if !r.records {
		return e
	}
	rec, err := DecodeRecordWith(payload, r.formatLookup())
	if err == ErrNotARecord {
		return e
	}
	if err != nil {
		e.Kind = Malformed
		e.Error = err
		return e
	}
	e.Kind = KindRecord
	e.Record = &rec
	if rec.Ticks() {
		e.UnixNs, e.HasTime = r.ticksToUnixNs(rec.Timestamp)
	} else {
		e.UnixNs, e.HasTime = rec.Timestamp, true
	}
	return e
}

func (r *Reader) ticksToUnixNs(ticks uint64) (uint64, bool) {
	if !r.hasExt {
		return 0, false
	}
	seq := load64(r.m.b, r.extAt+64)
	if !r.clockValid || seq != r.clockSeq {
		c, ok := readClock(r.m.b, r.extAt)
		if ok {
			r.clock, r.clockSeq, r.clockValid = c, seq, true
		} else if !r.clockValid {
			return 0, false
		}
	}
	return r.clock.UnixNs(ticks), true
}

// Available returns the next entry available now, folding gaps, corruption and re-creation into
// it (LostBefore, CorruptBefore, Restarted); nil when there is none yet.
func (r *Reader) Available() (*Entry, error) {
	for {
		ev, err := r.Next()
		if err != nil {
			return nil, err
		}
		switch ev.Status {
		case OK:
			e := ev.Entry
			e.LostBefore, e.CorruptBefore, e.Restarted = r.pendingLost, r.pendingCorrupt, r.pendingRestart
			r.pendingLost, r.pendingCorrupt, r.pendingRestart = 0, 0, false
			return e, nil
		case NoData:
			return nil, nil
		case Lapped:
			r.pendingLost += ev.Lost
		case Corrupt:
			r.pendingCorrupt++
		case WriterRestarted:
			r.pendingRestart = true
		case SegmentTruncated:
			return nil, ev.Err
		}
	}
}

// Wait blocks until the next entry (polling every `poll`), like Available. It returns io.EOF
// once the writer closed or is gone, every entry it wrote was read and no new segment appeared
// under the name within DoneGrace; ctx.Err() when ctx ends.
func (r *Reader) Wait(ctx context.Context, poll time.Duration) (*Entry, error) {
	for {
		e, err := r.Available()
		if err != nil || e != nil {
			r.doneSince = time.Time{}
			return e, err
		}
		// Liveness reads /proc: at most every livenessCheckInterval, so polling stays cheap.
		now := time.Now()
		if now.Before(r.nextLiveness) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(poll):
			}
			continue
		}
		r.nextLiveness = now.Add(livenessCheckInterval)
		if l := r.Liveness(); l == Closed || l == Gone {
			// The closed flag is stored after the last entry: drain once more, then stop unless
			// the name now holds a new writer's segment.
			if e, err := r.Available(); err != nil || e != nil {
				r.doneSince = time.Time{}
				return e, err
			}
			if r.CheckReplaced() {
				r.doneSince = time.Time{}
				continue
			}
			// A writer that re-creates its segment closes the old one and unlinks the name just
			// before creating the new one: give a successor DoneGrace to appear.
			if r.doneSince.IsZero() {
				r.doneSince = now
			} else if now.Sub(r.doneSince) >= r.DoneGrace {
				return nil, io.EOF
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Close unmaps the segment. Further calls return ErrClosed.
func (r *Reader) Close() error {
	if r.m != nil {
		r.m.close()
		r.m = nil
	}
	return nil
}
