//go:build !windows

package ouroboros

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
// used to cost a scan of the whole table per row; rows in loops cost 2N + 16 passes per call.
// The streams are the C++ reader's (TestDifferentialAgainstCLI compares them at smaller N).
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
		// Every row but row 0 is implausible (docs/format.md section 7.7): nothing to read.
		{"equal pairs", craftEqualPairs(n), func(ev []diffEvent) bool { return len(ev) == 0 }, 0},
		// Plausible rows in loops: each group's equal tokens make the stall check bounce until
		// the pass bound says "no progress"; the cycle check finds it after a few passes.
		{"plausible loops", craftPlausibleLoops(n), func(ev []diffEvent) bool {
			for i, e := range ev {
				if i%2 == 0 && (e.Kind != "corrupt" || e.Detail != "no progress: the chunk table forms a loop") ||
					i%2 == 1 && (e.Kind != "lapped" || e.Lost != 1) {
					return false
				}
			}
			return len(ev) == 2*(n/3)+1 // n % 3 == 1: the last group's first row pairs with the middle before
		}, n / 3},
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
func createFifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Unblock a reader stuck in open(): a non-blocking writer end completes its open.
		if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
		os.Remove(path)
	})
}

// Item 4: a FIFO, a symlink or a directory under the name is refused at once with a clear error.
func TestNonRegularNamesRefused(t *testing.T) {
	base := fmt.Sprintf("ouroboros-gotest-odd-%d", os.Getpid())
	fresh, err := os.ReadFile(filepath.Join(vectorsDir, "fresh_plain.bin"))
	if err != nil {
		t.Fatal(err)
	}
	target := "/dev/shm/" + base + "-target"
	if err := os.WriteFile(target, fresh, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(target) })
	cases := map[string]func(path string){
		"FIFO": func(path string) { createFifo(t, path) },
		"symbolic link": func(path string) {
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(path) })
		},
		"directory": func(path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(path) })
		},
	}
	for kind, make := range cases {
		name := base + "-" + strings.ReplaceAll(kind, " ", "-")
		path := "/dev/shm/" + name
		make(path)
		var err error
		withDeadline(t, 5*time.Second, "opening a "+kind, func() {
			var r *Reader
			r, err = NewReader(name)
			if err == nil {
				r.Close()
			}
		})
		want := fmt.Sprintf("'%s' is not a regular file (it is a %s)", path, kind)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: got %v, want an error containing %q", kind, err, want)
		}
	}
}

// Item 1: the segment shrinks under a following reader. Before: "fatal error: fault" killed the
// process. Now the reader reports the truncated segment, keeps its counts and stays usable.
func TestLiveSegmentTruncated(t *testing.T) {
	w := startWriter(t, "trunc", "--chunks", "64", "--chunk-size", "16384", "--seconds", "10",
		"--rate", "20000", "--min-size", "12", "--max-size", "100")
	path := "/dev/shm/" + w.name
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(w.name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.ReplacedCheckInterval = 5 * time.Millisecond
	w.goWrite()
	var delivered uint64
	truncated := ""
	deadline := time.Now().Add(20 * time.Second)
	for truncated == "" && time.Now().Before(deadline) {
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Status {
		case OK:
			checkPayload(t, ev.Entry.Seq, ev.Entry.Payload)
			delivered++
			if delivered == 500 {
				if err := os.Truncate(path, 4096); err != nil {
					t.Fatal(err)
				}
			}
		case NoData:
			time.Sleep(100 * time.Microsecond)
		case Lapped, Corrupt:
			t.Fatalf("unexpected %v", ev.Status)
		default:
			if ev.Status.String() != "segment_truncated" {
				t.Fatalf("unexpected %v", ev.Status)
			}
			truncated = ev.Detail
		}
	}
	if truncated == "" {
		t.Fatal("the truncated segment was not reported")
	}
	if !strings.Contains(truncated, "truncated") || !strings.Contains(truncated, "4096") {
		t.Fatalf("detail %q", truncated)
	}
	if delivered < 500 || r.Delivered() != delivered {
		t.Fatalf("delivered %d, reader says %d", delivered, r.Delivered())
	}
	// Still usable: no more data from the shrunk mapping, no crash from anything that reads it.
	for i := 0; i < 10; i++ {
		if ev, err := r.Next(); err != nil || ev.Status != NoData {
			t.Fatalf("after truncation: %v %v", ev.Status, err)
		}
	}
	r.Liveness()
	r.Extension()
	r.NewestChunkToken()
	if e, err := r.Available(); e != nil || err != nil {
		t.Fatalf("after truncation: %v %v", e, err)
	}
	// The file regains its size: the reader maps it again and goes on from where it was.
	if err := os.Truncate(path, st.Size()); err != nil {
		t.Fatal(err)
	}
	resumed := false
	for deadline := time.Now().Add(5 * time.Second); !resumed && time.Now().Before(deadline); {
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		resumed = ev.Status.String() == "reattached"
		time.Sleep(time.Millisecond)
	}
	if !resumed {
		t.Fatal("not re-attached after the size was restored")
	}
	if r.Delivered() != delivered {
		t.Fatalf("counts restarted: %d", r.Delivered())
	}
}

// Item 5: entries overwritten in a new incarnation before the reader re-attached are reported
// lost, so delivered + lost == written across restarts.
func TestLiveRestartAccounting(t *testing.T) {
	args := []string{"--chunks", "4", "--chunk-size", "1024", "--count", "3000"}
	first := startWriter(t, "restart", args...)
	r, err := NewReader(first.name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.ReplacedCheckInterval = 5 * time.Millisecond
	first.goWrite()
	written := first.written()
	var delivered, lost uint64
	var last uint64
	take := func(e *Entry) {
		if e.Seq-last-1 != e.LostBefore {
			t.Fatalf("entry %d after %d with %d lost before (restarted %v)", e.Seq, last, e.LostBefore, e.Restarted)
		}
		checkPayload(t, e.Seq, e.Payload)
		delivered++
		lost += e.LostBefore
		last = e.Seq
	}
	drain := func() {
		for {
			e, err := r.Available()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				return
			}
			if e.Restarted {
				t.Fatal("restart before any new writer")
			}
			take(e)
		}
	}
	drain()
	for i := 0; i < 3; i++ {
		w := startWriter(t, "restart", args...) // replaces the closed segment
		w.goWrite()
		written += w.written()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		e, err := r.Wait(ctx, time.Millisecond)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !e.Restarted || e.Seq <= 1 {
			t.Fatalf("restart %d: first entry %d, restarted %v", i, e.Seq, e.Restarted)
		}
		last = 0
		take(e)
		drain()
	}
	if delivered+lost != written {
		t.Fatalf("written %d, delivered %d + lost %d = %d", written, delivered, lost, delivered+lost)
	}
	t.Logf("written %d, delivered %d, lost %d", written, delivered, lost)
}

func procState(pid int) string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// Item 7: a killed writer that nobody reaped yet (a zombie) is gone.
func TestLiveZombieWriterIsGone(t *testing.T) {
	w := startWriter(t, "zombie", "--count", "10")
	r, err := NewReader(w.name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if l := r.Liveness(); l != Alive {
		t.Fatalf("liveness %v", l)
	}
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	// Not reaped (no Wait): the process stays a zombie until the test's cleanup.
	pid := w.cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); procState(pid) != "Z"; {
		if time.Now().After(deadline) {
			t.Fatalf("writer state %q", procState(pid))
		}
		time.Sleep(time.Millisecond)
	}
	if l := r.Liveness(); l != Gone {
		t.Fatalf("zombie writer: liveness %v", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, err := r.Wait(ctx, time.Millisecond)
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	}
}

// ringBytes writes a ring with the real writer and returns its bytes (the writer has closed it).
func ringBytes(t *testing.T, tag string, args ...string) []byte {
	t.Helper()
	w := startWriter(t, tag, args...)
	w.goWrite()
	w.written()
	data, err := os.ReadFile("/dev/shm/" + w.name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Item 8: forged chunk tables must not make the reader deliver a genuine entry twice (under a
// new sequence number). Rings of several shapes by the real writer (whose entries carry their
// own sequence number and a checksum); 1 to 4 bits flipped in the chunk table; a ring counts
// when one genuine entry is delivered twice. The reference reader's rate is 0.25 %; the reader
// before the plausibility rules (docs/format.md section 7.7) did so in about a quarter of them.
func TestForgedTablesRarelyRedeliver(t *testing.T) {
	var rings [][]byte
	for i, shape := range [][]string{
		{"--chunks", "8", "--chunk-size", "256", "--count", "1500"},
		{"--chunks", "16", "--chunk-size", "128", "--count", "1500", "--min-size", "12", "--max-size", "200"},
		{"--chunks", "4", "--chunk-size", "1024", "--count", "1500"},
		{"--chunks", "32", "--chunk-size", "64", "--count", "1500", "--min-size", "12", "--max-size", "40"},
	} {
		rings = append(rings, ringBytes(t, fmt.Sprintf("forge%d", i), shape...))
	}
	rng := rand.New(rand.NewSource(1))
	const trials = 1500
	twice := map[Start]int{}
	for trial := 0; trial < trials; trial++ {
		ring := rings[trial%len(rings)]
		data := append([]byte(nil), ring...)
		count := int(binary.LittleEndian.Uint32(data[12:]))
		for k := 1 + rng.Intn(4); k > 0; k-- {
			at := headerSize + rng.Intn(rowSize*count)
			data[at] ^= 1 << uint(rng.Intn(8))
		}
		for _, start := range []Start{Oldest, Newest} {
			r, err := FromBytes(data, start)
			if err != nil {
				continue
			}
			seen := map[uint64]bool{}
			for i := 0; i < 100000; i++ {
				ev, _ := r.Next()
				if ev.Status == NoData {
					break
				}
				if ev.Status != OK {
					continue
				}
				p := ev.Entry.Payload
				if len(p) < 12 || fnv1a(p[12:], fnv1a(p[:8], 2166136261)) != binary.LittleEndian.Uint32(p[8:]) {
					continue // not a genuine entry (read from a forged position)
				}
				own := binary.LittleEndian.Uint64(p)
				if seen[own] {
					twice[start]++
					break
				}
				seen[own] = true
			}
		}
	}
	for _, start := range []Start{Oldest, Newest} {
		share := float64(twice[start]) / trials
		t.Logf("%s: a genuine entry delivered twice in %d of %d forged rings (%.2f %%)", start, twice[start], trials, 100*share)
		if share > 0.0025 {
			t.Errorf("%s: %.2f %% of forged rings re-deliver entries (at most 0.25 %%)", start, 100*share)
		}
	}
}
