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

	// The table snapshot (docs/format.md sections 7.7 and 7.8): the usable rows of one
	// consistent copy of the table in index order, each judged plausible or not, and the
	// plausible ones sorted by (token, index). Resync, rule 5 and the start choose rows from it
	// by binary search, re-loading the chosen row before use, instead of scanning all N rows
	// each time. Kept across calls; retaken when a chosen row changed or none is left.
	table         []tableEntry
	candidates    []int // positions in table, by (token, index)
	snapshotTaken bool
	rowsRejected  uint64 // implausible rows, summed over snapshots

	// The far row (step d): the first row after rowIndex+1 that the snapshot saw usable, set by
	// enter; farOffset is -1 when there is none.
	farIndex  uint32
	farOffset int

	rowLoads uint64 // rows loaded (for tests of the work bound)

	loopSaved            passState // looping: the state compared with
	loopPower, loopSteps uint64
}

type tableEntry struct {
	offsetWord uint64
	token      uint64
	index      uint32
	plausible  bool
}

type pick int

const (
	pickFound pick = iota
	pickNone
	pickStale
)

type meeting int

const (
	meetEntered meeting = iota
	meetResync
	meetCorrupt
)

// maxSkips bounds the walk of start mode "now".
const maxSkips = 1 << 26

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
	r := &ring{b: b, size: len(b), count: count, tableEnd: headerSize + rowSize*int(count), resyncLoss: true,
		farOffset: -1}
	var index uint32
	var found row
	ok := false
	if start == Oldest {
		index, found, ok = r.findRow(0, count)
	} else {
		index, found, ok = r.newestRow()
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

// takeSnapshot copies the table twice: if every row reads the same both times, each held its
// value from its first load to its second, and all those intervals overlap, so the copy is the
// table at one instant (consistent). Only a consistent copy is judged for plausibility; in a
// copy torn by a writer that moved on, every row counts as plausible.
func (r *ring) takeSnapshot() {
	consistent := false
	for attempt := 0; attempt < 2 && !consistent; attempt++ {
		r.table = r.table[:0]
		for i := uint32(0); i < r.count; i++ {
			if c := r.loadRow(i); c.usable {
				r.table = append(r.table, tableEntry{offsetWord: c.offsetWord, token: c.token, index: i, plausible: true})
			}
		}
		consistent = true
		k := 0
		for i := uint32(0); i < r.count && consistent; i++ {
			c := r.loadRow(i)
			if k < len(r.table) && r.table[k].index == i {
				consistent = c.usable && c.offsetWord == r.table[k].offsetWord && c.token == r.table[k].token
				k++
			} else {
				consistent = !c.usable
			}
		}
	}
	if consistent {
		r.classifySnapshot()
	}
	r.candidates = r.candidates[:0]
	for k := range r.table {
		if r.table[k].plausible {
			r.candidates = append(r.candidates, k)
		} else {
			r.rowsRejected++
		}
	}
	sort.Sort(byTokenIndex{r.table, r.candidates})
	r.snapshotTaken = true
}

type byTokenIndex struct {
	table []tableEntry
	at    []int
}

func (s byTokenIndex) Len() int      { return len(s.at) }
func (s byTokenIndex) Swap(i, j int) { s.at[i], s.at[j] = s.at[j], s.at[i] }
func (s byTokenIndex) Less(i, j int) bool {
	a, b := &s.table[s.at[i]], &s.table[s.at[j]]
	return a.token < b.token || a.token == b.token && a.index < b.index
}

// classifySnapshot applies the rules of docs/format.md section 7.7 to a consistent copy: each
// usable row c is judged against p and q, the usable rows just before and after it in index
// order (as they are, plausible or not; one pass).
func (r *ring) classifySnapshot() {
	offsetOf := func(e *tableEntry) uint64 { return e.offsetWord & rowOffsetMask }
	m := len(r.table)
	for k := 0; k < m; k++ {
		c := &r.table[k]
		var p, q *tableEntry
		if k > 0 {
			p = &r.table[k-1]
		}
		if k+1 < m {
			q = &r.table[k+1]
		}
		oc := offsetOf(c)
		// (1) rows 0 .. i-1 of its lap each hold an entry before row i starts
		plausible := c.token >= uint64(c.index)
		if p != nil {
			op := offsetOf(p)
			// (2) a row of the same lap as p: later, and no more entries than the bytes between
			// them can hold; an equal token would mean an empty chunk
			if c.token == p.token {
				plausible = false
			}
			if c.token > p.token && (oc <= op || c.token-p.token > (oc-op)/4) {
				plausible = false
			}
		}
		switch {
		case p != nil && q != nil:
			// (3) between two rows that agree with each other, in offset and, if they are of
			// one lap, in token
			op, oq := offsetOf(p), offsetOf(q)
			if op < oq && !(op < oc && oc < oq) {
				plausible = false
			}
			if p.token < q.token && !(p.token < c.token && c.token < q.token) {
				plausible = false
			}
		case p != nil:
			if oc <= offsetOf(p) { // (4) the last row lies after the one before
				plausible = false
			}
		case q != nil:
			if oc > offsetOf(q) { // (4) the first row lies before the next
				plausible = false
			}
		}
		c.plausible = plausible
	}
}

// knownImplausible: the last snapshot judged row index, holding exactly rw, implausible.
func (r *ring) knownImplausible(index uint32, rw row) bool {
	k := sort.Search(len(r.table), func(k int) bool { return r.table[k].index >= index })
	return k < len(r.table) && r.table[k].index == index && !r.table[k].plausible &&
		r.table[k].offsetWord == rw.offsetWord && r.table[k].token == rw.token
}

func (r *ring) revalidate(e *tableEntry) (row, bool) {
	rw := r.loadRow(e.index)
	return rw, rw.usable && rw.offsetWord == e.offsetWord && rw.token == e.token
}

// pickFromSnapshot: the first plausible row by (token, index) with a token >= minToken other
// than exclude, re-loaded; stale if it changed since the snapshot.
func (r *ring) pickFromSnapshot(minToken uint64, exclude uint32) (uint32, row, pick) {
	lo, hi := 0, len(r.candidates)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.table[r.candidates[mid]].token < minToken {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for ; lo < len(r.candidates); lo++ {
		e := &r.table[r.candidates[lo]]
		if e.index == exclude {
			continue // at most one entry has that index
		}
		rw, ok := r.revalidate(e)
		if !ok {
			return 0, row{}, pickStale
		}
		return e.index, rw, pickFound
	}
	return 0, row{}, pickNone
}

// findRow: the plausible usable row with the smallest token >= minToken (the lowest index among
// equal tokens) other than exclude. A correct writer only commits rows with tokens above every
// committed one, so an unchanged best choice of an old snapshot is still the best choice.
func (r *ring) findRow(minToken uint64, exclude uint32) (uint32, row, bool) {
	if r.snapshotTaken {
		index, rw, picked := r.pickFromSnapshot(minToken, exclude)
		if picked == pickFound {
			return index, rw, true
		}
		// Nothing in the snapshot: a new snapshot only if some row qualifies now.
		if picked == pickNone {
			if _, _, ok := r.scanRows(minToken, exclude); !ok {
				return 0, row{}, false
			}
		}
	}
	r.takeSnapshot()
	index, rw, picked := r.pickFromSnapshot(minToken, exclude)
	if picked != pickStale {
		return index, rw, picked == pickFound
	}
	// The rows change faster than a snapshot is taken: one live scan decides.
	return r.scanRows(minToken, exclude)
}

// scanRows: findRow by one scan of the live table, without plausibility.
func (r *ring) scanRows(minToken uint64, exclude uint32) (uint32, row, bool) {
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

// anyRowContinuing (rule 5): a plausible row other than exclude with a token >= token. The
// witness is the newest plausible row, re-loaded after the caller's header load.
func (r *ring) anyRowContinuing(token uint64, exclude uint32) bool {
	newest := func() pick {
		for k := len(r.candidates) - 1; k >= 0; k-- {
			e := &r.table[r.candidates[k]]
			if e.index == exclude {
				continue
			}
			if e.token < token {
				return pickNone
			}
			if _, ok := r.revalidate(e); ok {
				return pickFound
			}
			return pickStale
		}
		return pickNone
	}
	live := func() bool {
		for i := uint32(0); i < r.count; i++ {
			if i == exclude {
				continue
			}
			if c := r.loadRow(i); c.usable && c.token >= token {
				return true
			}
		}
		return false
	}
	if r.snapshotTaken {
		picked := newest()
		if picked == pickFound {
			return true
		}
		if picked == pickNone && !live() {
			return false
		}
	}
	r.takeSnapshot()
	if picked := newest(); picked != pickStale {
		return picked == pickFound
	}
	return live()
}

// newestRow: the plausible row with the largest token (the lowest index among equal ones).
func (r *ring) newestRow() (uint32, row, bool) {
	r.takeSnapshot()
	if len(r.candidates) == 0 {
		return 0, row{}, false
	}
	newest := r.table[r.candidates[len(r.candidates)-1]].token
	k := sort.Search(len(r.candidates), func(k int) bool { return r.table[r.candidates[k]].token >= newest })
	e := &r.table[r.candidates[k]]
	if rw, ok := r.revalidate(e); ok {
		return e.index, rw, true
	}
	var index uint32
	var found row
	ok := false
	for i := uint32(0); i < r.count; i++ {
		if c := r.loadRow(i); c.usable && (!ok || c.token > found.token) {
			index, found, ok = i, c, true
		}
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
	// The first row after index + 1 that the snapshot saw usable: reading on must not pass its
	// start unnoticed when the rows in between are not usable (step d looks at index + 1 only).
	r.farIndex, r.farOffset = r.count, -1
	after := uint64(index) + 1
	k := sort.Search(len(r.table), func(k int) bool { return uint64(r.table[k].index) > after })
	if k < len(r.table) {
		r.farIndex = r.table[k].index
		r.farOffset = int(r.table[k].offsetWord & rowOffsetMask)
	}
}

// meetRow is step d for a usable row that starts exactly at the position.
func (r *ring) meetRow(index uint32, rw row) meeting {
	if rw.token == r.seq {
		r.enter(index, rw) // the header just loaded is its first entry
		return meetEntered
	}
	if rw.token > r.seq {
		r.scheduleResync(r.seq, false) // lapped
		return meetResync
	}
	// A chunk starts here whose entries are numbered below the ones just read: one of the two
	// rows lies (no correct writer leaves a row of an earlier lap where it writes). Reading on
	// would deliver that chunk's entries again under new numbers.
	return meetCorrupt
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
	farIndex       uint32
	farOffset      int
	position       int
	seq            uint64
	resyncPending  bool
	resyncLoss     bool
	resyncExclude  bool
	resyncMinToken uint64
}

func (r *ring) passState() passState {
	return passState{r.rowIndex, r.entered, r.farIndex, r.farOffset, r.position, r.seq, r.resyncPending,
		r.resyncLoss, r.resyncExclude, r.resyncMinToken}
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
			index, found, ok := r.findRow(r.resyncMinToken, exclude)
			if !ok {
				return ringResult{status: ringNoData}
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
				return ringResult{status: ringNoData}
			}
			// (c) the current row must still be the one we entered
			if !sameRow(r.loadRow(r.rowIndex), r.entered) {
				r.scheduleResync(r.seq, false)
				continue
			}
			// (d) only now the next row: a chunk that starts exactly here. One load of its offset
			// word rules out the common case (no chunk starts here) before the full three-load
			// row; it is still loaded after the header, so the order b-before-d holds.
			if r.rowIndex+1 < r.count &&
				load64(r.b, headerSize+rowSize*int(r.rowIndex+1)) == uint64(r.position)|rowCommitted {
				if next := r.loadRow(r.rowIndex + 1); next.usable && next.offset() == r.position {
					switch r.meetRow(r.rowIndex+1, next) {
					case meetResync:
						continue
					case meetCorrupt:
						return r.failCorrupt("a chunk starts here with a token below the sequence read so far")
					}
				}
			} else if r.position == r.farOffset {
				// The rows between are not usable: the next usable row starts here.
				if far := r.loadRow(r.farIndex); far.usable && far.offset() == r.position {
					switch r.meetRow(r.farIndex, far) {
					case meetResync:
						continue
					case meetCorrupt:
						return r.failCorrupt("a chunk starts here with a token below the sequence read so far")
					}
				}
			}
			wrap = length == lengthWrap
		}

		if wrap {
			// (e) continue at chunk 0 only if it continues the sequence exactly
			first := r.loadRow(0)
			if first.usable && first.token == r.seq && !r.knownImplausible(0, first) {
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
