package ouroboros

import "encoding/binary"

// Hand-made buffers for tests: a v1 header and chunk table without an extension block, rows and
// entry headers placed wherever a test wants them (hostile tables included).

type craft struct {
	b     []byte
	first int // end of the chunk table: where the data region starts
}

func newCraft(chunks, dataBytes int) *craft {
	first := headerSize + rowSize*chunks
	c := &craft{b: make([]byte, first+dataBytes), first: first}
	binary.LittleEndian.PutUint64(c.b, bufferMagic)
	binary.LittleEndian.PutUint32(c.b[8:], formatVersion)
	binary.LittleEndian.PutUint32(c.b[12:], uint32(chunks))
	return c
}

// row commits row i at offset off with token.
func (c *craft) row(i, off int, token uint64) {
	at := headerSize + rowSize*i
	binary.LittleEndian.PutUint64(c.b[at:], uint64(off)|rowCommitted)
	binary.LittleEndian.PutUint64(c.b[at+8:], token)
}

func (c *craft) header(off int, h uint32) { binary.LittleEndian.PutUint32(c.b[off:], h) }

// entry stores a committed entry at off and returns the offset of the next one.
func (c *craft) entry(off int, payload []byte) int {
	c.header(off, uint32(entryHeader+len(payload))|entryCommitted)
	copy(c.b[off+entryHeader:], payload)
	return (off + entryHeader + len(payload) + 3) &^ 3
}

// Three tables that cost a reader quadratic work when it scans the whole table per corrupt
// entry, per stall check or per pass (docs/format.md section 7.4, obligation 6):

// craftCorruptRows: row i starts at a reserved-length entry with token i. Each row gives one
// `corrupt` and the resync past it one `lapped` of 1.
func craftCorruptRows(n int) []byte {
	c := newCraft(n, 4*n)
	for i := 0; i < n; i++ {
		c.row(i, c.first+4*i, uint64(i))
		c.header(c.first+4*i, 2|entryCommitted)
	}
	return c.b
}

// craftEmptyChain: row i starts at an empty slot (header 0) with token i: each chunk "ended
// without a wrap or an advance" (obligation 5), so the reader moves to the next, losing 1.
func craftEmptyChain(n int) []byte {
	c := newCraft(n, 4*n)
	for i := 0; i < n; i++ {
		c.row(i, c.first+4*i, uint64(i))
	}
	return c.b
}

// craftEqualPairs: rows 2t and 2t+1 both have token t and start at empty slots. Before the
// plausibility rules the stall check bounced between each pair until the pass bound reported
// "no progress"; now every row but row 0 is implausible (docs/format.md section 7.7).
func craftEqualPairs(n int) []byte {
	c := newCraft(n, 4*n)
	for i := 0; i < n; i++ {
		c.row(i, c.first+4*i, uint64(i/2))
	}
	return c.b
}

// craftPlausibleLoops: groups of three rows at empty slots, tokens B+g, B+g+1, B+g (B = 3n + 8),
// 16 bytes apart: every row passes the plausibility rules, yet the rows with equal tokens make
// the stall check (obligation 5) bounce between two of them until the pass bound reports "no
// progress", group after group: 2N + 16 passes per call for the C++ reader.
func craftPlausibleLoops(n int) []byte {
	c := newCraft(n, 16*n)
	base := uint64(3*n + 8)
	for i := 0; i < n; i++ {
		g := uint64(i / 3)
		token := base + g
		if i%3 == 1 {
			token++
		}
		c.row(i, c.first+16*i, token)
	}
	return c.b
}
