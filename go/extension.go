package ouroboros

import "math/bits"

const (
	extMagic         uint64 = 0x3158454F52554F00
	extMinSize              = 112
	flagClosed       uint32 = 1
	encodingRecord   uint32 = 1
	startToleranceNs uint64 = 2_000_000_000
	clockTicksPerSec        = 100 // USER_HZ: fixed at 100 in the Linux user ABI
)

// ExtensionInfo is a snapshot of the segment's extension block (docs/format.md section 9).
type ExtensionInfo struct {
	WriterPID         uint64
	WriterStartUnixNs uint64
	Incarnation       uint64
	HeartbeatUnixNs   uint64
	PayloadEncoding   uint32
	Flags             uint32
	ChunkTargetSize   uint64
}

// Closed reports whether the writer shut down cleanly.
func (e ExtensionInfo) Closed() bool { return e.Flags&flagClosed != 0 }

// Records reports whether payloads are log records.
func (e ExtensionInfo) Records() bool { return e.PayloadEncoding == encodingRecord }

// locateExtension returns the byte offset of a well-formed block (C++ extension.cpp: locate).
func locateExtension(b []byte) (int, bool) {
	if len(b) < headerSize || load64(b, 0) != bufferMagic {
		return 0, false
	}
	count := load32(b, 12)
	at := (headerSize + rowSize*uint64(count) + 7) &^ 7
	if count == 0 || uint64(len(b)) < at+extMinSize {
		return 0, false
	}
	a := int(at)
	if load64(b, a) != extMagic {
		return 0, false
	}
	size := uint64(load32(b, a+8))
	if size < extMinSize || size > uint64(len(b))-at || size%8 != 0 {
		return 0, false
	}
	return a, true
}

func readExtension(b []byte) (ExtensionInfo, bool) {
	a, ok := locateExtension(b)
	if !ok {
		return ExtensionInfo{}, false
	}
	return ExtensionInfo{
		WriterPID:         load64(b, a+16),
		WriterStartUnixNs: load64(b, a+24),
		Incarnation:       load64(b, a+32),
		HeartbeatUnixNs:   load64(b, a+40),
		PayloadEncoding:   load32(b, a+48),
		Flags:             load32(b, a+52),
		ChunkTargetSize:   load64(b, a+56),
	}, true
}

// Clock is a calibration: wall = WallBase + (signed(ticks - TickBase) * Mult) >> 32.
type Clock struct {
	TickBase uint64
	WallBase uint64
	Mult     uint64
}

var identityClock = Clock{0, 0, 1 << 32}

// readClock reads the calibration through its seqlock; false if the writer keeps updating it.
func readClock(b []byte, a int) (Clock, bool) {
	for attempt := 0; attempt < 64; attempt++ {
		before := load64(b, a+64)
		if before%2 != 0 {
			continue
		}
		c := Clock{load64(b, a+72), load64(b, a+80), load64(b, a+88)}
		if load64(b, a+64) == before {
			if before == 0 {
				return identityClock, true
			}
			return c, true
		}
	}
	return Clock{}, false
}

// UnixNs converts writer ticks to unix nanoseconds (128-bit signed product, modulo 2^64).
func (c Clock) UnixNs(ticks uint64) uint64 {
	delta := int64(ticks - c.TickBase)
	neg := delta < 0
	mag := uint64(delta)
	if neg {
		mag = uint64(-delta)
	}
	hi, lo := bits.Mul64(mag, c.Mult)
	// (mag*mult) >> 32 as a 96-bit value; floor for negatives (arithmetic shift of the product).
	shifted := hi<<32 | lo>>32
	if neg {
		if lo&0xFFFFFFFF != 0 {
			shifted++
		}
		return c.WallBase - shifted
	}
	return c.WallBase + shifted
}

// Liveness of the writer of a segment (docs/format.md section 10.1).
type Liveness int

const (
	LivenessUnknown Liveness = iota // no extension block: cannot tell
	Alive
	Closed // shut down cleanly
	Gone   // the process no longer exists (or its pid was reused)
)

func (l Liveness) String() string {
	switch l {
	case Alive:
		return "alive"
	case Closed:
		return "closed"
	case Gone:
		return "gone"
	}
	return "unknown"
}

func livenessOf(info ExtensionInfo, ok bool) Liveness {
	if !ok {
		return LivenessUnknown
	}
	if info.Closed() {
		return Closed
	}
	if !processExists(info.WriterPID) {
		return Gone
	}
	state, started, ok := processState(info.WriterPID)
	if ok && (state == 'Z' || state == 'X') {
		return Gone // killed but not reaped yet: a zombie writes nothing more
	}
	if started != 0 && info.WriterStartUnixNs != 0 {
		diff := started - info.WriterStartUnixNs
		if started < info.WriterStartUnixNs {
			diff = info.WriterStartUnixNs - started
		}
		if diff > startToleranceNs {
			return Gone // the pid was reused
		}
	}
	return Alive
}
