//go:build !windows

package ouroboros

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"
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
	}{{"corrupt_rows", craftCorruptRows(1 << 16)}, {"empty_chain", craftEmptyChain(1 << 16)},
		{"equal_pairs", craftEqualPairs(1 << 16)}, {"plausible_loops", craftPlausibleLoops(1 << 16)}} {
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

// TestGuardCostAB (OUROBOROS_GUARD_AB=1): what the fault guard costs per Next, measured in one
// process so machine noise hits both sides alike: the guarded Next and the same path without the
// guard alternate 2 000 times over batches of 5 000 entries of a mapped segment, in alternating
// order; the median of the per-batch differences is printed, and the same for two unguarded
// readers (the noise floor).
func TestGuardCostAB(t *testing.T) {
	if os.Getenv("OUROBOROS_GUARD_AB") == "" {
		t.Skip("set OUROBOROS_GUARD_AB=1 to measure the fault guard's cost")
	}
	name := fmt.Sprintf("ouroboros-goab-%d", os.Getpid())
	if err := os.WriteFile("/dev/shm/"+name, craftFilled(64, 100000, 40, 1<<16), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove("/dev/shm/" + name)
	guarded := func(r *Reader) { r.Next() }
	bare := func(r *Reader) { r.nextNoGuard() }
	run := func(fa, fb func(*Reader)) (float64, float64) {
		const batch = 5000
		var ra, rb *Reader
		timed := func(r *Reader, f func(*Reader)) float64 {
			start := time.Now()
			for i := 0; i < batch; i++ {
				f(r)
			}
			return float64(time.Since(start).Nanoseconds()) / batch
		}
		var diffs, as []float64
		for round := 0; round < 2000; round++ {
			if round%19 == 0 { // 19 * 5 000 < 100 000: every batch reads entries
				for _, r := range []*Reader{ra, rb} {
					if r != nil {
						r.Close()
					}
				}
				ra, _ = Open(name, Oldest)
				rb, _ = Open(name, Oldest)
			}
			var a, b float64
			if round%2 == 0 {
				a, b = timed(ra, fa), timed(rb, fb)
			} else {
				b, a = timed(rb, fb), timed(ra, fa)
			}
			diffs = append(diffs, a-b)
			as = append(as, a)
		}
		ra.Close()
		rb.Close()
		sort.Float64s(diffs)
		sort.Float64s(as)
		return diffs[len(diffs)/2], as[len(as)/2]
	}
	d, m := run(guarded, bare)
	t.Logf("guarded Next: median %.1f ns per entry, %.1f ns more than without the guard", m, d)
	d, m = run(bare, bare)
	t.Logf("noise floor (unguarded vs unguarded): median %.1f ns per entry, difference %.1f ns", m, d)
}
