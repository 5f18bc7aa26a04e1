//go:build !windows

package ouroboros

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Live tests against the project's demo writer (ouroboros-demo-writer): log records at a high
// rate on a small ring, and re-created segments.

func runDemo(t *testing.T, name string, args ...string) (*exec.Cmd, *strings.Builder, *Reader) {
	t.Helper()
	exe := filepath.Join(binDir(), "ouroboros-demo-writer")
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("%s not built (set OUROBOROS_BIN_DIR): %v", exe, err)
	}
	out := &strings.Builder{}
	cmd := exec.Command(exe, append([]string{"-s", name, "--json", "-q"}, args...)...)
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove("/dev/shm/" + name)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := NewReader(name)
		if err == nil {
			r.ReplacedCheckInterval = 20 * time.Millisecond
			return cmd, out, r
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type demoSummary struct {
	Entries  uint64 `json:"entries"`
	Restarts int    `json:"restarts"`
}

func summaryOf(t *testing.T, cmd *exec.Cmd, out *strings.Builder) demoSummary {
	t.Helper()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo writer: %v", err)
	}
	var s demoSummary
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, `"summary"`) {
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func TestDemoWriterRecordsFast(t *testing.T) {
	cmd, out, r := runDemo(t, fmt.Sprintf("ouroboros-godemo-%d", os.Getpid()), "--chunks", "64", "--chunk-size", "16K", "--rate", "500000", "--duration", "1.5")
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last, delivered uint64
	for {
		e, err := r.Wait(ctx, 100*time.Microsecond)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != KindRecord || e.CorruptBefore != 0 || e.Restarted || !e.HasTime {
			t.Fatalf("entry %d: kind %v error %v corrupt %d", e.Seq, e.Kind, e.Error, e.CorruptBefore)
		}
		if last != 0 && (e.Seq <= last || e.Seq-last-1 != e.LostBefore) {
			t.Fatalf("entry %d after %d with %d lost before", e.Seq, last, e.LostBefore)
		}
		last = e.Seq
		delivered++
	}
	if r.RowsRejected() != 0 {
		t.Fatalf("%d rows of a correct writer judged implausible", r.RowsRejected())
	}
	s := summaryOf(t, cmd, out)
	if s.Entries < 10000 || delivered < 1000 || last != s.Entries {
		t.Fatalf("written %d, delivered %d, last %d", s.Entries, delivered, last)
	}
}

func TestDemoWriterRestarts(t *testing.T) {
	cmd, out, r := runDemo(t, fmt.Sprintf("ouroboros-godemo-r-%d", os.Getpid()), "--chunks", "8", "--chunk-size", "4K", "--rate", "20000", "--duration", "1.6", "--restart-every", "0.5")
	defer r.Close()
	runs := [][]uint64{{}}
	var delivered, lost uint64
	for {
		e, err := r.Wait(context.Background(), time.Millisecond)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Restarted {
			runs = append(runs, nil)
			// The entries the new incarnation overwrote before the reader re-attached.
			if e.Seq-1 != e.LostBefore {
				t.Fatalf("first entry %d after a restart with %d lost before", e.Seq, e.LostBefore)
			}
		}
		run := runs[len(runs)-1]
		if e.Kind != KindRecord || e.CorruptBefore != 0 {
			t.Fatalf("entry %d: kind %v", e.Seq, e.Kind)
		}
		if len(run) > 0 && (e.Seq <= run[len(run)-1] || e.Seq-run[len(run)-1]-1 != e.LostBefore) {
			t.Fatalf("entry %d after %d with %d lost before", e.Seq, run[len(run)-1], e.LostBefore)
		}
		runs[len(runs)-1] = append(run, e.Seq)
		delivered++
		lost += e.LostBefore
	}
	s := summaryOf(t, cmd, out)
	if s.Restarts < 2 || len(runs) != s.Restarts+1 {
		t.Fatalf("%d restarts, %d runs read", s.Restarts, len(runs))
	}
	if delivered+lost != s.Entries {
		t.Fatalf("written %d across %d restarts, delivered %d + lost %d", s.Entries, s.Restarts, delivered, lost)
	}
	for i := 1; i < len(runs); i++ {
		if len(runs[i]) == 0 || runs[i][0] >= runs[i-1][len(runs[i-1])-1] {
			t.Fatalf("run %d does not restart the sequence", i)
		}
	}
}
