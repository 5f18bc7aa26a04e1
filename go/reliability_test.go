package ouroboros

import (
	"testing"
	"time"
)

// Issue 10: readers must survive a hostile machine (shrinking segments, FIFOs and symlinks under
// the name, forged tables, restarts, zombie writers) and keep exact accounting.

// fullPass reads until "no data" (or limit results) and returns the results as diff events.
func fullPass(t *testing.T, data []byte, start Start, limit int) ([]diffEvent, *Reader) {
	t.Helper()
	r, err := FromBytes(data, start)
	if err != nil {
		t.Fatal(err)
	}
	var got []diffEvent
	for i := 0; i < limit; i++ {
		ev, _ := r.Next()
		switch ev.Status {
		case OK:
			got = append(got, diffEvent{Kind: "ok", Seq: ev.Entry.Seq})
		case Lapped:
			got = append(got, diffEvent{Kind: "lapped", Lost: ev.Lost})
		case Corrupt:
			got = append(got, diffEvent{Kind: "corrupt", Detail: ev.Detail})
		default:
			return got, r
		}
	}
	t.Fatalf("no 'no data' after %d results", limit)
	return nil, nil
}

// withDeadline fails the test if f has not returned within d: the quadratic readers this guards
// against take minutes, a linear one milliseconds.
func withDeadline(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}

// Item 3: 65 536 rows (a 1.3 MB buffer), each pointing at a corrupt entry or at an empty chunk,
// used to cost a scan of the whole table per row.
func TestForgedTablesCostLinearithmicWork(t *testing.T) {
	const n = 1 << 16
	cases := []struct {
		name  string
		data  []byte
		check func(events []diffEvent) bool
		lost  uint64
	}{
		{"corrupt rows", craftCorruptRows(n), func(ev []diffEvent) bool {
			for i, e := range ev {
				if i%2 == 0 && (e.Kind != "corrupt" || e.Detail != "reserved entry length 2 or 3") ||
					i%2 == 1 && (e.Kind != "lapped" || e.Lost != 1) {
					return false
				}
			}
			return len(ev) == 2*n-1
		}, n - 1},
		{"empty chain", craftEmptyChain(n), func(ev []diffEvent) bool {
			for _, e := range ev {
				if e.Kind != "lapped" || e.Lost != 1 {
					return false
				}
			}
			return len(ev) == n-1
		}, n - 1},
		{"equal pairs", craftEqualPairs(n), func(ev []diffEvent) bool {
			for i, e := range ev {
				if i%2 == 0 && (e.Kind != "corrupt" || e.Detail != "no progress: the chunk table forms a loop") ||
					i%2 == 1 && (e.Kind != "lapped" || e.Lost != 1) {
					return false
				}
			}
			return len(ev) == n-1
		}, n/2 - 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.data) < 1<<20 {
				t.Fatalf("crafted buffer is only %d bytes", len(c.data))
			}
			withDeadline(t, 20*time.Second, "a full pass over "+c.name, func() {
				events, r := fullPass(t, c.data, Oldest, 1<<20)
				if !c.check(events) || r.Delivered() != 0 || r.Lost() != c.lost {
					t.Errorf("%d events (first %v), lost %d", len(events), head(events), r.Lost())
				}
				// The work bound itself, independent of the machine's speed: a scan of the table
				// per row would load n*n/2 = 2^31 rows.
				if loads := r.ring.rowLoads; loads > 128*n {
					t.Errorf("%d rows loaded for %d rows", loads, n)
				} else {
					t.Logf("%d rows loaded (%.1f per row)", loads, float64(loads)/n)
				}
			})
			for _, start := range []Start{Newest, Now} {
				withDeadline(t, 20*time.Second, "start "+start.String(), func() { fullPass(t, c.data, start, 1<<20) })
			}
		})
	}
}
