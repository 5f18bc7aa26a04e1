//go:build windows

package ouroboros

// Tests of the Windows reader against segments written by the Windows demo_writer (run under
// Wine in CI: scripts/test.sh, windows phase). OUROBOROS_BIN_DIR is the Windows path of the
// cross build's bin directory.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func windowsWriter(t *testing.T) string {
	dir := os.Getenv("OUROBOROS_BIN_DIR")
	if dir == "" {
		t.Fatal("OUROBOROS_BIN_DIR must name the Windows build's bin directory")
	}
	path := filepath.Join(dir, "ouroboros-demo-writer.exe")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("demo_writer not found: %v", err)
	}
	return path
}

// openWhenCreated waits for a just-started writer to create its segment.
func openWhenCreated(t *testing.T, name string) *Reader {
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := NewReader(name)
		if err == nil {
			return r
		}
		if !errors.Is(err, ErrSegmentNotFound) && !isAttachError(err) {
			t.Fatalf("open %s: %v", name, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("segment %s never appeared: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isAttachError(err error) bool {
	var a *AttachError
	return errors.As(err, &a)
}

func TestWindowsReadsTheDemoWriter(t *testing.T) {
	name := fmt.Sprintf("ouroboros-go-win-%d", os.Getpid())
	writer := exec.Command(windowsWriter(t), "-s", name, "--rate", "2000", "-d", "2", "-q")
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	defer writer.Process.Kill()
	r := openWhenCreated(t, name)
	defer r.Close()
	if got := r.Liveness(); got != Alive {
		t.Errorf("liveness while the writer runs: %v", got)
	}
	if size := r.MappedSize(); size%4096 != 0 {
		t.Errorf("mapped size %d is not whole pages", size)
	}
	var last uint64
	records := 0
	for done := false; !done; {
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Status {
		case OK:
			if ev.Entry.Seq <= last {
				t.Fatalf("sequence went from %d to %d", last, ev.Entry.Seq)
			}
			last = ev.Entry.Seq
			if ev.Entry.Record != nil && ev.Entry.Record.Message != "" {
				records++
			}
		case NoData:
			if writer.ProcessState != nil {
				done = true
				break
			}
			time.Sleep(5 * time.Millisecond)
		case Lapped:
			t.Errorf("lapped: %d lost", ev.Lost)
		}
		if writer.ProcessState == nil && last >= 3000 {
			if err := writer.Wait(); err != nil {
				t.Fatalf("demo_writer: %v", err)
			}
		}
	}
	if records < 3000 {
		t.Errorf("decoded %d records, want at least 3000 (last seq %d)", records, last)
	}
	if r.Lost() != 0 {
		t.Errorf("lost %d entries at 2000/s", r.Lost())
	}
	// The reader's handle keeps the section after the writer closed it.
	if got := r.Liveness(); got != Closed {
		t.Errorf("liveness after the writer exited: %v", got)
	}
}

func TestWindowsKilledWriterIsGone(t *testing.T) {
	name := fmt.Sprintf("ouroboros-go-win-kill-%d", os.Getpid())
	writer := exec.Command(windowsWriter(t), "-s", name, "--rate", "1000", "--crash-after", "1",
		"--crash-mode", "kill", "-q")
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	defer writer.Process.Kill()
	r := openWhenCreated(t, name)
	defer r.Close()
	_ = writer.Wait()
	if got := r.Liveness(); got != Gone {
		t.Errorf("liveness after TerminateProcess: %v", got)
	}
	n := 0
	for {
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Status != OK {
			break
		}
		n++
	}
	if n == 0 {
		t.Error("nothing written before the crash was readable")
	}
}

func TestWindowsMissingSegment(t *testing.T) {
	_, err := NewReader(fmt.Sprintf("ouroboros-go-win-missing-%d", os.Getpid()))
	if !errors.Is(err, ErrSegmentNotFound) {
		t.Fatalf("want ErrSegmentNotFound, got %v", err)
	}
}
