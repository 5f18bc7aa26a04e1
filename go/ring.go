package ouroboros

// The v1 ring reading algorithm: a step-for-step port of core/src/ring_reader.cpp (docs/format.md
// section 7). The order of the steps in step() is what makes the reader correct.

import (
	"math"
	"sort"
)

const (
	bufferMagic     uint64 = 0x4F55524F424C4F47
	formatVersion   uint32 = 1
	headerSize             = 16
	rowSize                = 16
	rowCommitted    uint64 = 1 << 63
	rowOffsetMask          = rowCommitted - 1
	entryHeader            = 4
	entryCommitted  uint32 = 1 << 31
	entryLengthMask        = entryCommitted - 1
	lengthWrap      uint32 = 1
	lengthMinEntry  uint32 = 4

	statusNotALog            = "not_a_log"
	statusUnsupportedVersion = "unsupported_version"
	statusCorrupt            = "corrupt"
)

type ringStatus int

const (
	ringOK ringStatus = iota
	ringNoData
	ringLapped
	ringCorrupt
)

type row struct {
	offsetWord uint64
	token      uint64
	usable     bool
}

func (r row) offset() int { return int(r.offsetWord & rowOffsetMask) }

func sameRow(a, b row) bool {
	return a.usable && b.usable && a.offsetWord == b.offsetWord && a.token == b.token
}

// ring reads one mapping. Not safe for concurrent use.
type ring struct {
	b        []byte
	size     int
	count    uint32
	tableEnd int

	rowIndex uint32
	entered  row
	position int
	seq      uint64 // s: the current chunk's token plus entries read from it

	resyncPending  bool
	resyncLoss     bool
	resyncExclude  bool
	resyncMinToken uint64

	delivered uint64
	lost      uint64

	// The rows sorted by (token, index), taken when one pass over the buffer needs more than
	// linearResyncs resyncs, so a hostile table costs O(N log N) per pass instead of a scan of
	// all N rows per corrupt entry. Dropped whenever the reader has no data (the writer moves
	// on) or a row it names turns out changed.
	sorted        sortedRows
	sortedValid   bool
	linearResyncs int

	rowLoads uint64 // rows loaded (for tests of the work bound)

	loopSaved            passState // looping: the state compared with
	loopPower, loopSteps uint64
}

type sortedRow struct {
	token      uint64
	offsetWord uint64
	index      uint32
}

type sortedRows []sortedRow

func (s sortedRows) Len() int      { return len(s) }
func (s sortedRows) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s sortedRows) Less(i, j int) bool {
	return s[i].token < s[j].token || s[i].token == s[j].token && s[i].index < s[j].index
}

// firstFrom is the position of the first row with a token >= minToken.
func (s sortedRows) firstFrom(minToken uint64) int {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s[mid].token < minToken {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// maxSkips bounds the walk of start mode "now".
const maxSkips = 1 << 26

// linearResyncs: resyncs per pass that scan the table like the C++ reader before the reader
// sorts it once. A live reader that is lapped now and then never needs more.
const linearResyncs = 4

// loopCheckFrom: passes within one call after which the reader starts looking for a repeated
// state. A well-formed buffer needs a handful of passes per entry; only a hostile table gets here.
const loopCheckFrom = 32

func checkHeader(b []byte) (uint32, *AttachError) {
	if len(b) < headerSize {
		return 0, &AttachError{statusNotALog, "buffer smaller than the 16-byte header or not 8-byte aligned"}
	}
	if load64(b, 0) != bufferMagic {
		return 0, &AttachError{statusNotALog, "no ring buffer magic"}
	}
	version := load32(b, 8)
	count := load32(b, 12)
	if version != formatVersion {
		return 0, &AttachError{statusUnsupportedVersion, "format version is not 1"}
	}
	if count == 0 {
		return 0, &AttachError{statusCorrupt, "chunk count is 0"}
	}
	if uint64(len(b)) < headerSize+rowSize*uint64(count)+entryHeader {
		return 0, &AttachError{statusNotALog, "buffer too small for its chunk table"}
	}
	return count, nil
}

func newRing(b []byte, start Start) (*ring, error) {
	count, err := checkHeader(b)
	if err != nil {
		return nil, err
	}
	r := &ring{b: b, size: len(b), count: count, tableEnd: headerSize + rowSize*int(count), resyncLoss: true}
	var index uint32
	var found row
	ok := false
	if start == Oldest {
		index, found, ok = r.findRow(0, count)
	} else {
		for i := uint32(0); i < count; i++ {
			c := r.loadRow(i)
			if c.usable && (!ok || c.token > found.token) {
				index, found, ok = i, c, true
			}
		}
	}
	if ok {
		r.enter(index, found)
	} else {
		// Only while a writer restarts row 0: choose the start on the first read instead.
		r.scheduleResync(0, false)
		r.resyncLoss = false
	}
	if start == Now {
		r.skipToEnd()
	}
	return r, nil
}

// countFromFirstEntry makes the next read resync from sequence 0 with the loss reported: on a
// new incarnation of the segment being followed, the entries before its oldest one still in
// the ring were overwritten before this reader could see them.
func (r *ring) countFromFirstEntry() {
	r.seq = 0
	r.scheduleResync(0, false)
	r.resyncLoss = true
}

func (r *ring) loadRow(index uint32) row {
	// Offset, token, offset again: equal committed offsets bracket a token that belongs to them.
	r.rowLoads++
	at := headerSize + rowSize*int(index)
	first := load64(r.b, at)
	token := load64(r.b, at+8)
	second := load64(r.b, at)
	rw := row{offsetWord: first, token: token}
	if first != second || first&rowCommitted == 0 {
		return rw
	}
	off := first & rowOffsetMask
	// Untrusted: inside the data area, room for a header, 4-aligned, and a token that can still
	// number an entry.
	rw.usable = off >= uint64(r.tableEnd) && off%4 == 0 && off <= uint64(r.size-entryHeader) &&
		token != math.MaxUint64
	return rw
}

func (r *ring) findRow(minToken uint64, exclude uint32) (uint32, row, bool) {
	var index uint32
	var found row
	ok := false
	for i := uint32(0); i < r.count; i++ {
		if i == exclude {
			continue
		}
		c := r.loadRow(i)
		if c.usable && c.token >= minToken && (!ok || c.token < found.token) {
			index, found, ok = i, c, true
		}
	}
	return index, found, ok
}

func (r *ring) anyRowContinuing(token uint64, exclude uint32) bool {
	if r.sortedValid {
		// The rows with the two largest tokens (one may be the excluded one). What answers is a
		// fresh load of the row, made after the caller's header load, as obligation 5 requires.
		for k := len(r.sorted) - 1; k >= 0 && k >= len(r.sorted)-2; k-- {
			c := r.sorted[k]
			if c.index == exclude {
				continue
			}
			if c.token >= token {
				if fresh := r.loadRow(c.index); fresh.usable && fresh.token >= token {
					return true
				}
			}
			break
		}
	}
	for i := uint32(0); i < r.count; i++ {
		if i == exclude {
			continue
		}
		c := r.loadRow(i)
		if c.usable && c.token >= token {
			return true
		}
	}
	return false
}

// sortRows takes the snapshot of the usable rows, sorted by (token, index).
func (r *ring) sortRows() {
	r.sorted = r.sorted[:0]
	for i := uint32(0); i < r.count; i++ {
		if c := r.loadRow(i); c.usable {
			r.sorted = append(r.sorted, sortedRow{token: c.token, offsetWord: c.offsetWord, index: i})
		}
	}
	sort.Sort(r.sorted)
	r.sortedValid = true
}

// resyncRow finds the resync target: the usable row with the smallest token >= minToken (the
// lowest index among equal tokens), other than exclude. The same row findRow's scan picks; the
// first few resyncs of a pass scan, later ones look the row up in the sorted snapshot and load
// it again before it is entered: if it changed since, the snapshot is taken again.
func (r *ring) resyncRow(minToken uint64, exclude uint32) (uint32, row, bool) {
	if !r.sortedValid {
		if r.linearResyncs < linearResyncs {
			r.linearResyncs++
			return r.findRow(minToken, exclude)
		}
		r.sortRows()
	}
	for attempt := 0; attempt < 2; attempt++ {
		k := r.sorted.firstFrom(minToken)
		if k < len(r.sorted) && r.sorted[k].index == exclude {
			k++
		}
		if k == len(r.sorted) {
			break // none in the snapshot; a row may have been committed since: scan
		}
		c := r.sorted[k]
		if fresh := r.loadRow(c.index); fresh.usable && fresh.offsetWord == c.offsetWord && fresh.token == c.token {
			return c.index, fresh, true
		}
		r.sortRows() // the writer moved on since the snapshot
	}
	index, found, ok := r.findRow(minToken, exclude)
	if ok {
		r.sortedValid = false // a row the snapshot lacks: the table changed
	}
	return index, found, ok
}

func (r *ring) newestChunkToken() uint64 {
	var newest uint64
	for i := uint32(0); i < r.count; i++ {
		c := r.loadRow(i)
		if c.usable && c.token > newest {
			newest = c.token
		}
	}
	return newest
}

func (r *ring) enter(index uint32, rw row) {
	r.rowIndex = index
	r.entered = rw
	r.position = rw.offset()
	r.seq = rw.token
}

func (r *ring) scheduleResync(minToken uint64, excludeCurrent bool) {
	r.resyncPending = true
	r.resyncMinToken = minToken
	r.resyncExclude = excludeCurrent
}

// passState is everything a pass of step() depends on besides the buffer's bytes: in a buffer
// that does not change, a state seen twice within one call repeats forever.
type passState struct {
	rowIndex       uint32
	entered        row
	position       int
	seq            uint64
	resyncPending  bool
	resyncLoss     bool
	resyncExclude  bool
	resyncMinToken uint64
}

func (r *ring) passState() passState {
	return passState{r.rowIndex, r.entered, r.position, r.seq, r.resyncPending, r.resyncLoss,
		r.resyncExclude, r.resyncMinToken}
}

// looping is Brent's cycle detection over the pass states of one call, from pass loopCheckFrom
// on. Within one call s only changes on the first pass (a resync that reports a loss returns at
// once), so a repeated state means the passes would go round until the pass bound with s
// unchanged: the result is the same "no progress" corrupt, found after O(length of the loop)
// passes instead of 2N + 16 passes that may each cost a resync.
func (r *ring) looping(pass uint64) bool {
	current := r.passState()
	if pass == loopCheckFrom {
		r.loopSaved, r.loopPower, r.loopSteps = current, 1, 0
		return false
	}
	if current == r.loopSaved {
		return true
	}
	r.loopSteps++
	if r.loopSteps == r.loopPower {
		r.loopSaved = current
		r.loopPower *= 2
		r.loopSteps = 0
	}
	return false
}

type ringResult struct {
	status  ringStatus
	seq     uint64
	lost    uint64
	payload []byte
	detail  string
}

func (r *ring) failCorrupt(why string) ringResult {
	// Skip the rest of this chunk; the skipped entries are counted as lost by the resync.
	next := r.seq
	if next != math.MaxUint64 {
		next++
	}
	r.scheduleResync(next, false)
	return ringResult{status: ringCorrupt, detail: why}
}

func (r *ring) next() ringResult { return r.step(true) }

func (r *ring) noData() ringResult {
	// The writer may change the table before the next call: no snapshot outlives "no data".
	r.sortedValid = false
	r.linearResyncs = 0
	return ringResult{status: ringNoData}
}

func (r *ring) step(copyPayload bool) ringResult {
	// Bounded passes: a hostile chunk table could chain moves forever.
	maxPasses := 2*uint64(r.count) + 16
	for pass := uint64(0); pass < maxPasses; pass++ {
		if pass >= loopCheckFrom && r.looping(pass) {
			break
		}
		if r.resyncPending {
			exclude := r.count
			if r.resyncExclude {
				exclude = r.rowIndex
			}
			index, found, ok := r.resyncRow(r.resyncMinToken, exclude)
			if !ok {
				return r.noData()
			}
			var lost uint64
			if r.resyncLoss {
				lost = found.token - r.seq
			}
			r.resyncPending = false
			r.resyncLoss = true
			r.enter(index, found)
			if lost > 0 {
				r.lost += lost
				return ringResult{status: ringLapped, lost: lost}
			}
			continue
		}

		wrap := false
		var length uint32
		if r.size-r.position < entryHeader {
			wrap = true // (a) implicit wrap
		} else {
			// (b) the header first: everything below is judged against this one load.
			header := load32(r.b, r.position)
			length = header & entryLengthMask
			if header&entryCommitted == 0 || length == 0 {
				// (c) a lapped reader must not report "no data" forever
				if !sameRow(r.loadRow(r.rowIndex), r.entered) {
					r.scheduleResync(r.seq, false)
					continue
				}
				// (5) never stall while newer data exists; the second header load matters.
				if header == 0 && r.anyRowContinuing(r.seq, r.rowIndex) && load32(r.b, r.position) == 0 {
					r.scheduleResync(r.seq, true)
					continue
				}
				return r.noData()
			}
			// (c) the current row must still be the one we entered
			if !sameRow(r.loadRow(r.rowIndex), r.entered) {
				r.scheduleResync(r.seq, false)
				continue
			}
			// (d) only now the next row: a chunk that starts exactly here
			if r.rowIndex+1 < r.count {
				next := r.loadRow(r.rowIndex + 1)
				if next.usable && next.offset() == r.position {
					if next.token == r.seq {
						r.enter(r.rowIndex+1, next) // the header just loaded is its first entry
					} else if next.token > r.seq {
						r.scheduleResync(r.seq, false)
						continue
					}
					// a smaller token is a stale row from an earlier lap: ignore it
				}
			}
			wrap = length == lengthWrap
		}

		if wrap {
			// (e) continue at chunk 0 only if it continues the sequence exactly
			first := r.loadRow(0)
			if first.usable && first.token == r.seq {
				if r.rowIndex == 0 && r.position == first.offset() {
					return r.failCorrupt("wrap marker at the start of chunk 0")
				}
				r.enter(0, first)
			} else {
				r.scheduleResync(r.seq, false)
			}
			continue
		}

		// (f) validate, copy, acquire, re-check the whole row
		if length < lengthMinEntry {
			return r.failCorrupt("reserved entry length 2 or 3")
		}
		if int(length) > r.size-r.position {
			return r.failCorrupt("entry runs past the end of the buffer")
		}
		var payload []byte
		if copyPayload {
			at := r.position + entryHeader
			payload = make([]byte, int(length)-entryHeader)
			copyAcquire(payload, r.b[at:r.position+int(length)], r.b, at)
		}
		if !sameRow(r.loadRow(r.rowIndex), r.entered) {
			r.scheduleResync(r.seq, false) // the copy may be torn: discard it
			continue
		}
		if r.seq == math.MaxUint64 {
			return r.failCorrupt("sequence number overflow")
		}
		r.seq++
		r.delivered++
		next := (r.position + int(length) + 3) &^ 3
		if next > r.size {
			next = r.size
		}
		r.position = next
		return ringResult{status: ringOK, seq: r.seq, payload: payload}
	}
	return r.failCorrupt("no progress: the chunk table forms a loop")
}

func (r *ring) skipToEnd() {
	// Entries skipped here are not reported as lost: the caller asked to start now.
	for i := 0; i < maxSkips; i++ {
		s := r.step(false).status
		if s != ringOK && s != ringLapped {
			break
		}
	}
	r.delivered = 0
	r.lost = 0
}
