package ouroboros

import (
	"fmt"
	"os"
	"testing"
)

// craftFilled: a stopped ring of `chunks` chunks holding `entries` entries of `size` payload
// bytes, as a writer that never wrapped leaves it (rows advance every chunkTarget bytes).
func craftFilled(chunks, entries, size, chunkTarget int) []byte {
	per := (entryHeader + size + 3) &^ 3
	c := newCraft(chunks, per*entries+4)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	off, chunk, chunkStart := c.first, 0, c.first
	c.row(0, off, 0)
	for k := 0; k < entries; k++ {
		if off-chunkStart >= chunkTarget && chunk+1 < chunks {
			chunk++
			chunkStart = off
			c.row(chunk, off, uint64(k))
		}
		off = c.entry(off, payload)
	}
	return c.b
}

// BenchmarkNextMapped: Next over a mapped segment (the read path with its fault guard), one
// entry per iteration. BenchmarkNextMappedNoGuard: the same without the guard (what the guard
// costs per entry is the difference).
func BenchmarkNextMapped(b *testing.B) {
	benchmarkMapped(b, func(r *Reader) Status { ev, _ := r.Next(); return ev.Status })
}

func BenchmarkNextMappedNoGuard(b *testing.B) { benchmarkMapped(b, (*Reader).nextNoGuard) }

// nextNoGuard is Next's data path without the fault guard (for the benchmark only).
func (r *Reader) nextNoGuard() Status {
	res := r.ring.next()
	switch res.status {
	case ringOK:
		ev := Event{Status: OK, Entry: r.interpret(res.seq, res.payload)}
		return ev.Status
	case ringLapped:
		return Lapped
	case ringCorrupt:
		return Corrupt
	}
	return NoData
}

func benchmarkMapped(b *testing.B, next func(*Reader) Status) {
	name := fmt.Sprintf("ouroboros-gobench-next-%d", os.Getpid())
	if err := os.WriteFile("/dev/shm/"+name, craftFilled(64, 100000, 40, 1<<16), 0o600); err != nil {
		b.Fatal(err)
	}
	defer os.Remove("/dev/shm/" + name)
	r, err := Open(name, Oldest)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if next(r) != OK {
			b.StopTimer()
			r.Close()
			if r, err = Open(name, Oldest); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	r.Close()
}

// BenchmarkForgedFullPass: one full pass (attach at the oldest entry, read to "no data") over
// each forged 65 536-row table of TestForgedTablesCostLinearithmicWork (1.3 MB each).
func BenchmarkForgedFullPass(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{{"corrupt_rows", craftCorruptRows(1 << 16)}, {"empty_chain", craftEmptyChain(1 << 16)}, {"equal_pairs", craftEqualPairs(1 << 16)}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := FromBytes(c.data, Oldest)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if ev, _ := r.Next(); ev.Status == NoData {
						break
					}
				}
			}
		})
	}
}
