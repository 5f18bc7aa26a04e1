//go:build !windows

package ouroboros

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Live tests: ouroboros-test-writer writes self-checking entries fast into a small ring while
// this reader reads; order, exact gap accounting and payload integrity are checked.

func binDir() string {
	if d := os.Getenv("OUROBOROS_BIN_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "build", "dev", "bin")
}

type testWriter struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startWriter(t *testing.T, tag string, args ...string) *testWriter {
	t.Helper()
	exe := filepath.Join(binDir(), "ouroboros-test-writer")
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("%s not built (set OUROBOROS_BIN_DIR): %v", exe, err)
	}
	name := fmt.Sprintf("ouroboros-gotest-%s-%d", tag, os.Getpid())
	cmd := exec.Command(exe, append([]string{name, "--wait-stdin", "--keep"}, args...)...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &testWriter{t: t, name: name, cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove("/dev/shm/" + name)
	})
	line, err := w.out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		t.Fatalf("writer did not start: %q %v", line, err)
	}
	return w
}

func (w *testWriter) goWrite() { _, _ = io.WriteString(w.stdin, "go\n") }

func (w *testWriter) written() uint64 {
	w.t.Helper()
	rest, _ := io.ReadAll(w.out)
	if err := w.cmd.Wait(); err != nil {
		w.t.Fatalf("writer failed: %v", err)
	}
	fields := strings.Fields(string(rest))
	n, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
	if err != nil {
		w.t.Fatalf("writer output %q", rest)
	}
	return n
}

func fnv1a(data []byte, h uint32) uint32 {
	for _, b := range data {
		h = (h ^ uint32(b)) * 16777619
	}
	return h
}

func checkPayload(t *testing.T, seq uint64, p []byte) {
	if len(p) < 12 {
		t.Fatalf("entry %d: %d bytes", seq, len(p))
	}
	if own := binary.LittleEndian.Uint64(p); own != seq {
		t.Fatalf("entry delivered as %d carries %d", seq, own)
	}
	if fnv1a(p[12:], fnv1a(p[:8], 2166136261)) != binary.LittleEndian.Uint32(p[8:]) {
		t.Fatalf("entry %d: bad checksum", seq)
	}
}

func TestLiveOrderGapsIntegrity(t *testing.T) {
	for _, rate := range []string{"0", "200000"} {
		t.Run("rate"+rate, func(t *testing.T) {
			// A paced writer gets a ring holding ~4 ms of entries; the unthrottled one laps a tiny one.
			chunks := "8"
			if rate != "0" {
				chunks = "64"
			}
			w := startWriter(t, "live"+rate, "--chunks", chunks, "--chunk-size", "2048", "--seconds", "1.5",
				"--rate", rate, "--min-size", "12", "--max-size", "300")
			r, err := NewReader(w.name)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			w.goWrite()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var last, lost, delivered uint64
			for {
				e, err := r.Wait(ctx, 100*time.Microsecond)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if e.Seq <= last || e.Seq-last-1 != e.LostBefore {
					t.Fatalf("entry %d after %d with %d lost before", e.Seq, last, e.LostBefore)
				}
				if e.CorruptBefore != 0 || e.Restarted {
					t.Fatalf("entry %d: corrupt %d restarted %v", e.Seq, e.CorruptBefore, e.Restarted)
				}
				checkPayload(t, e.Seq, e.Payload)
				lost += e.LostBefore
				delivered++
				last = e.Seq
			}
			total := w.written()
			if r.Liveness() != Closed {
				t.Fatalf("liveness %v", r.Liveness())
			}
			if r.RowsRejected() != 0 {
				t.Fatalf("%d rows of a correct writer judged implausible", r.RowsRejected())
			}
			if last != total || delivered+lost != total || r.Delivered() != delivered || r.Lost() != lost {
				t.Fatalf("total %d last %d delivered %d lost %d (reader %d/%d)", total, last, delivered, lost, r.Delivered(), r.Lost())
			}
			if rate != "0" && delivered < total/4 {
				t.Fatalf("a paced writer should mostly be kept up with: %d of %d", delivered, total)
			}
			if total < 1000 || delivered < 100 {
				t.Fatalf("too little traffic: total %d delivered %d", total, delivered)
			}
			t.Logf("rate %s: written %d, delivered %d, lost %d", rate, total, delivered, lost)
		})
	}
}

func TestLiveRecords(t *testing.T) {
	w := startWriter(t, "rec", "--records", "--chunks", "4", "--chunk-size", "4096", "--count", "20000")
	r, err := NewReader(w.name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.goWrite()
	n := 0
	for {
		e, err := r.Wait(context.Background(), 100*time.Microsecond)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != KindRecord || e.Record.Message != fmt.Sprintf("entry %d", e.Seq) ||
			len(e.Record.Fields) != 1 || e.Record.Fields[0].Value != strconv.FormatUint(e.Seq, 10) ||
			uint64(e.Record.Level) != e.Seq%6 || !e.HasTime {
			t.Fatalf("bad record %d: %+v", e.Seq, e.Record)
		}
		if d := time.Since(time.Unix(0, int64(e.UnixNs))); d < -time.Minute || d > time.Minute {
			t.Fatalf("time off by %v", d)
		}
		n++
	}
	if n == 0 || w.written() != 20000 {
		t.Fatalf("read %d", n)
	}
}

func TestLiveStartModesAndLiveness(t *testing.T) {
	w := startWriter(t, "modes", "--chunks", "4", "--chunk-size", "512", "--count", "5000")
	early, err := NewReader(w.name)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	if early.Liveness() != Alive {
		t.Fatalf("liveness %v", early.Liveness())
	}
	w.goWrite()
	total := w.written()
	if early.Liveness() != Closed {
		t.Fatalf("liveness %v", early.Liveness())
	}
	seqs := func(start Start) []uint64 {
		r, err := Open(w.name, start)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []uint64
		for {
			e, _ := r.Available()
			if e == nil {
				return out
			}
			out = append(out, e.Seq)
		}
	}
	if now := seqs(Now); len(now) != 0 {
		t.Fatalf("now: %v", now)
	}
	newest, oldest := seqs(Newest), seqs(Oldest)
	if newest[len(newest)-1] != total || oldest[len(oldest)-1] != total || len(newest) >= len(oldest) {
		t.Fatalf("newest %d entries, oldest %d, total %d", len(newest), len(oldest), total)
	}
	for i := 1; i < len(oldest); i++ {
		if oldest[i] != oldest[i-1]+1 {
			t.Fatalf("gap in a stopped segment at %d", oldest[i])
		}
	}
}

func TestLiveWriterGone(t *testing.T) {
	w := startWriter(t, "gone", "--count", "10")
	r, err := NewReader(w.name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Liveness() != Alive {
		t.Fatal(r.Liveness())
	}
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	_ = w.cmd.Wait()
	if r.Liveness() != Gone {
		t.Fatal(r.Liveness())
	}
	if _, err := r.Wait(context.Background(), time.Millisecond); err != io.EOF {
		t.Fatal(err)
	}
}

func TestLiveSegmentRecreated(t *testing.T) {
	first := startWriter(t, "again", "--count", "300")
	r, err := NewReader(first.name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.ReplacedCheckInterval = 10 * time.Millisecond
	first.goWrite()
	if first.written() != 300 {
		t.Fatal("first writer")
	}
	second := startWriter(t, "again", "--count", "40") // replaces the closed segment
	second.goWrite()
	second.written()
	var seqs []uint64
	var lostBefore uint64
	restartedAt := -1
	for {
		e, err := r.Wait(context.Background(), time.Millisecond)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Restarted {
			restartedAt = len(seqs)
		} else if restartedAt < 0 {
			lostBefore += e.LostBefore
		}
		checkPayload(t, e.Seq, e.Payload)
		seqs = append(seqs, e.Seq)
	}
	if restartedAt < 0 || seqs[restartedAt-1] != 300 || uint64(restartedAt)+lostBefore != 300 {
		t.Fatalf("restart at %d, %d lost before, entries %v", restartedAt, lostBefore, seqs)
	}
	after := seqs[restartedAt:]
	for i, s := range after {
		if s != uint64(i+1) {
			t.Fatalf("after the restart: %v", after)
		}
	}
	if len(after) != 40 {
		t.Fatalf("after the restart: %v", after)
	}
}
