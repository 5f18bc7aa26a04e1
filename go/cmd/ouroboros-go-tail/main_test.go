package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tail is tested as a process (this test binary re-executed as the tail), the way users and
// scripts run it: exit codes, stdout and stderr kept apart. Live tests need ouroboros-test-writer
// (OUROBOROS_BIN_DIR).

func TestMain(m *testing.M) {
	if os.Getenv("OUROBOROS_GO_TAIL_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func tailCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OUROBOROS_GO_TAIL_AS_MAIN=1")
	return cmd
}

// runTail runs the tail to its end (at most 20 s).
func runTail(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := tailCommand(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("tail %v did not end within 20 s; stdout %q stderr %q", args, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tailProc is a tail running in the background (follow mode).
type tailProc struct {
	t           *testing.T
	cmd         *exec.Cmd
	out, errOut *syncBuffer
	done        chan struct{}
}

func startTail(t *testing.T, args ...string) *tailProc {
	t.Helper()
	p := &tailProc{t: t, cmd: tailCommand(args...), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *tailProc) waitFor(stream *syncBuffer, want string, within time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(stream.String(), want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q within %v; stdout %q\nstderr %q", want, within, tail(p.out.String()), p.errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *tailProc) exited(within time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(within):
		return false
	}
}

// interrupt sends SIGINT and returns the exit code.
func (p *tailProc) interrupt() int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	if !p.exited(5 * time.Second) {
		p.t.Fatal("tail did not stop on SIGINT")
	}
	return p.cmd.ProcessState.ExitCode()
}

func tail(s string) string {
	if len(s) > 600 {
		return "..." + s[len(s)-600:]
	}
	return s
}

func binDir() string {
	if d := os.Getenv("OUROBOROS_BIN_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "build", "dev", "bin")
}

type writerProc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startWriter(t *testing.T, name string, args ...string) *writerProc {
	t.Helper()
	exe := filepath.Join(binDir(), "ouroboros-test-writer")
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("%s not built (set OUROBOROS_BIN_DIR): %v", exe, err)
	}
	cmd := exec.Command(exe, append([]string{name, "--wait-stdin", "--keep"}, args...)...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &writerProc{t: t, name: name, cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove("/dev/shm/" + name)
	})
	if line, err := w.out.ReadString('\n'); err != nil || !strings.HasPrefix(line, "ready") {
		t.Fatalf("writer did not start: %q %v", line, err)
	}
	return w
}

func (w *writerProc) goWrite() { _, _ = io.WriteString(w.stdin, "go\n") }

func (w *writerProc) written() uint64 {
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

func segmentName(tag string) string { return fmt.Sprintf("ouroboros-gotail-%s-%d", tag, os.Getpid()) }

// --- crafted segments -------------------------------------------------------------------------

const (
	magic      = 0x4F55524F424C4F47
	extMagic   = 0x3158454F52554F00
	committed  = 1 << 31
	rowCommit  = 1 << 63
	deadPid    = 0x7FFFFFF0 // above any pid_max: no such process
	extAt      = 32         // one row
	firstEntry = extAt + 112
)

// crafted: one chunk, an extension block (records when records is set, the writer pid given)
// and the given payloads as entries 1..n.
func crafted(records bool, pid uint64, payloads ...[]byte) []byte {
	size := firstEntry + 4
	for _, p := range payloads {
		size += (4 + len(p) + 3) &^ 3
	}
	b := make([]byte, (size+7)&^7)
	le := binary.LittleEndian
	le.PutUint64(b, magic)
	le.PutUint32(b[8:], 1)
	le.PutUint32(b[12:], 1)
	le.PutUint64(b[16:], firstEntry|rowCommit)
	le.PutUint64(b[extAt:], extMagic)
	le.PutUint32(b[extAt+8:], 112)
	le.PutUint32(b[extAt+12:], 1)
	le.PutUint64(b[extAt+16:], pid)
	le.PutUint64(b[extAt+32:], 0x0123456789abcdef)
	if records {
		le.PutUint32(b[extAt+48:], 1)
	}
	le.PutUint32(b[extAt+96:], extAt+112)
	off := firstEntry
	for _, p := range payloads {
		le.PutUint32(b[off:], uint32(4+len(p))|committed)
		copy(b[off+4:], p)
		off = (off + 4 + len(p) + 3) &^ 3
	}
	return b
}

func record(level byte, unixNs uint64, tag, message string, fields ...string) []byte {
	b := []byte{0x9E, 1, level, 0, 7, 0, 0, 0}
	b = binary.LittleEndian.AppendUint64(b, unixNs)
	b = append(b, byte(len(tag)), byte(len(fields)/2))
	b = append(b, tag...)
	for i := 0; i+1 < len(fields); i += 2 {
		b = append(b, byte(len(fields[i])))
		b = append(b, fields[i]...)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(fields[i+1])))
		b = append(b, fields[i+1]...)
	}
	return append(b, message...)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
}

// corruptRows: n rows, each at a reserved-length entry, token i.
func corruptRows(n int) []byte {
	first := 16 + 16*n
	b := make([]byte, first+4*n)
	le := binary.LittleEndian
	le.PutUint64(b, magic)
	le.PutUint32(b[8:], 1)
	le.PutUint32(b[12:], uint32(n))
	for i := 0; i < n; i++ {
		le.PutUint64(b[16+16*i:], uint64(first+4*i)|rowCommit)
		le.PutUint64(b[24+16*i:], uint64(i))
		le.PutUint32(b[first+4*i:], 2|committed)
	}
	return b
}

// --- item 11: numeric options ---------------------------------------------------------------

func TestTailNumericFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dump.bin")
	writeFile(t, file, crafted(false, deadPid, []byte("one"), []byte("two")))
	for _, bad := range []string{"-1", "18446744073709551616", "12abc", "", "+3", "0x10"} {
		_, errOut, code := runTail(t, "-file", "-max", bad, file)
		want := fmt.Sprintf("-max: expected a whole number from 0 to 18446744073709551615, got %q", bad)
		if code != 2 || !strings.Contains(errOut, want) {
			t.Fatalf("-max %q: exit %d, stderr %q; want 2 and %q", bad, code, errOut, want)
		}
	}
	out, errOut, code := runTail(t, "-file", "-seq", "-max", "18446744073709551615", file)
	if code != 0 || out != "#1 one\n#2 two\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = runTail(t, "-file", "-seq", "-max", "1", file)
	if code != 0 || out != "#1 one\n" {
		t.Fatalf("-max 1: exit %d, stdout %q", code, out)
	}
}

// --- exit codes and non-regular names (item 4) ------------------------------------------------

func TestTailExitCodes(t *testing.T) {
	name := segmentName("codes")
	path := "/dev/shm/" + name
	if _, _, code := runTail(t, "-no-follow", name+"-missing"); code != 3 {
		t.Fatalf("missing segment: exit %d", code)
	}
	if _, _, code := runTail(t, "-no-follow", "a/b"); code != 2 {
		t.Fatalf("invalid name: exit %d", code)
	}
	if _, _, code := runTail(t, "-start", "sideways", name); code != 2 {
		t.Fatalf("bad -start: exit %d", code)
	}
	if _, _, code := runTail(t); code != 2 {
		t.Fatalf("no name: exit %d", code)
	}
	writeFile(t, path, []byte("not a log at all, not a log at all"))
	if _, errOut, code := runTail(t, "-no-follow", name); code != 4 || !strings.Contains(errOut, "no ring buffer magic") {
		t.Fatalf("not a log: exit %d, %q", code, errOut)
	}
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
		os.Remove(path)
	})
	for _, args := range [][]string{{"-no-follow", name}, {name}, {"-file", path}} {
		_, errOut, code := runTail(t, args...)
		want := fmt.Sprintf("'%s' is not a regular file (it is a FIFO)", path)
		if code != 4 || !strings.Contains(errOut, want) {
			t.Fatalf("%v on a FIFO: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// --- items 6 and 9: corrupt events, gaps, escaping --------------------------------------------

func TestTailCorruptEvents(t *testing.T) {
	file := filepath.Join(t.TempDir(), "corrupt.bin")
	writeFile(t, file, corruptRows(3))
	out, errOut, code := runTail(t, "-file", file)
	wantOut := "--- 1 entry overwritten, seq 1 ---\n--- 1 entry overwritten, seq 2 ---\n"
	// Rate-limited: the first at once, the two after it (within the same second) in one more.
	wantErr := fmt.Sprintf("=== corrupt data skipped in segment %s: reserved entry length 2 or 3 ===\n"+
		"=== corrupt data skipped in segment %s: reserved entry length 2 or 3 (2 corrupt reads) ===\n", file, file)
	if code != 0 || out != wantOut || errOut != wantErr {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %q\nwant   %q", code, out, wantOut, errOut, wantErr)
	}
	out, errOut, code = runTail(t, "-file", "-json", file)
	ev := func(count int) string {
		suffix := ""
		if count > 1 {
			suffix = fmt.Sprintf(" (%d corrupt reads)", count)
		}
		return fmt.Sprintf(`{"type":"event","event":"corrupt","segment":"%s","count":%d,"message":"corrupt data skipped in segment %s: reserved entry length 2 or 3%s"}`+"\n", file, count, file, suffix)
	}
	wantOut = ev(1) +
		`{"type":"gap","lost":1,"first_seq":1,"last_seq":1,"message":"1 entry overwritten, seq 1"}` + "\n" +
		`{"type":"gap","lost":1,"first_seq":2,"last_seq":2,"message":"1 entry overwritten, seq 2"}` + "\n" +
		ev(2)
	if code != 0 || out != wantOut || errOut != "" {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, out, wantOut, errOut)
	}
}

func TestTailEscapesControlCharacters(t *testing.T) {
	const ns = 1_700_000_000_500_003_000
	plain := crafted(false, 0, []byte("a\x1b[2Jb\rc\xc2\x9bd\xffe\x7ff\ng\th"))
	file := filepath.Join(t.TempDir(), "plain.bin")
	writeFile(t, file, plain)
	out, _, code := runTail(t, "-file", file)
	if want := "a\\x1b[2Jb\\x0dc\\x9bd\\xffe\\x7ff\n    g\th\n"; code != 0 || out != want {
		t.Fatalf("exit %d\nstdout %q\nwant   %q", code, out, want)
	}
	out, _, _ = runTail(t, "-file", "-json", file)
	if want := `{"type":"entry","seq":1,"message":"a\u001b[2Jb\rc\u009bd` + "\uFFFD" + `e\u007ff\ng\th","binary":true}` + "\n"; out != want {
		t.Fatalf("json\nstdout %q\nwant   %q", out, want)
	}

	recs := crafted(true, 0, record(3, ns, "t\x1bx", "m\x07sg\nnext", "k\x1b", "v\x1b", "q", "two words\x07"))
	file = filepath.Join(t.TempDir(), "records.bin")
	writeFile(t, file, recs)
	out, _, _ = runTail(t, "-file", "-utc", file)
	// the tag is padded to 8 by its bytes (3), as the CLI does, not by its escaped width
	want := "2023-11-14 22:13:20.500003 WARN  t\\x1bx      [7] m\\x07sg\n    next k\\x1b=v\\x1b q=\"two words\\x07\"\n"
	if out != want {
		t.Fatalf("records\nstdout %q\nwant   %q", out, want)
	}
	out, _, _ = runTail(t, "-file", "-json", file)
	want = `{"type":"entry","seq":1,"time":"2023-11-14T22:13:20.500003000Z","time_ns":1700000000500003000,"level":"warn","tag":"t\u001bx","thread":7,"message":"m\u0007sg\nnext","fields":{"k\u001b":"v\u001b","q":"two words\u0007"}}` + "\n"
	if out != want {
		t.Fatalf("records json\nstdout %q\nwant   %q", out, want)
	}

	// A segment name that would drive the terminal: escaped in events too.
	name := segmentName("esc\x1b[31m\n")
	writeFile(t, "/dev/shm/"+name, crafted(false, deadPid, []byte("x")))
	out, errOut, code := runTail(t, "-no-follow", name)
	shown := strings.ReplaceAll(strings.ReplaceAll(name, "\x1b", `\x1b`), "\n", `\x0a`)
	wantErr := fmt.Sprintf("=== writer gone: process %d of segment /%s no longer exists (it did not close the segment: crashed or killed) ===\n", deadPid, shown)
	if code != 0 || out != "x\n" || errOut != wantErr {
		t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, wantErr)
	}
}

// --- item 10: another user's segment ------------------------------------------------------------

func TestTailWarnsAboutOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a segment to another user")
	}
	name := segmentName("owner")
	path := "/dev/shm/" + name
	writeFile(t, path, crafted(false, uint64(os.Getpid()), []byte("x"))) // a live writer: no event
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	owner := "65534"
	if u := lookupUser(65534); u != "" {
		owner = u
	}
	_, errOut, code := runTail(t, "-no-follow", name)
	want := fmt.Sprintf("ouroboros-go-tail: warning: segment /%s is owned by user %s (uid 65534), not by you (uid 0)\n", name, owner)
	if code != 0 || errOut != want {
		t.Fatalf("exit %d, stderr %q, want %q", code, errOut, want)
	}
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, errOut, _ := runTail(t, "-no-follow", name); errOut != "" {
		t.Fatalf("own segment: stderr %q", errOut)
	}
}

// --- item 6: writer lifecycle ---------------------------------------------------------------------

func TestTailWriterGoneKeepsFollowing(t *testing.T) {
	for _, mode := range []string{"text", "json", "exit-on-close"} {
		t.Run(mode, func(t *testing.T) {
			w := startWriter(t, segmentName("gone-"+mode), "--seconds", "30", "--rate", "1000")
			args := []string{"-seq", w.name}
			if mode == "json" {
				args = []string{"-json", w.name}
			} else if mode == "exit-on-close" {
				args = []string{"-seq", "-exit-on-close", w.name}
			}
			p := startTail(t, args...)
			w.goWrite()
			if mode == "json" {
				p.waitFor(p.out, `{"type":"entry","seq":50,`, 5*time.Second)
			} else {
				p.waitFor(p.out, "\n#50 ", 5*time.Second)
			}
			time.Sleep(50 * time.Millisecond)
			pid := w.cmd.Process.Pid
			_ = w.cmd.Process.Signal(syscall.SIGKILL)
			_ = w.cmd.Wait()
			// then "; last heartbeat S.S s ago"
			text := fmt.Sprintf("writer gone: process %d of segment /%s no longer exists (it did not close the segment: crashed or killed); last heartbeat ", pid, w.name)
			switch mode {
			case "text":
				p.waitFor(p.errOut, "=== "+text, 5*time.Second)
			case "json":
				p.waitFor(p.out, fmt.Sprintf(`{"type":"event","event":"writer_gone","segment":"/%s","pid":%d,"incarnation":"`, w.name, pid), 5*time.Second)
				p.waitFor(p.out, `,"message":"`+text, time.Second)
				if p.errOut.String() != "" {
					t.Fatalf("stderr in JSON mode: %q", p.errOut.String())
				}
			case "exit-on-close":
				if !p.exited(5 * time.Second) {
					t.Fatal("-exit-on-close: still running after the writer died")
				}
				if code := p.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p.errOut.String(), text) {
					t.Fatalf("exit %d, stderr %q", code, p.errOut.String())
				}
				return
			}
			if p.exited(700 * time.Millisecond) {
				t.Fatalf("follow mode ended when the writer died (exit %d)", p.cmd.ProcessState.ExitCode())
			}
			if strings.Count(p.errOut.String()+p.out.String(), "writer gone:") != 1 {
				t.Fatalf("gone reported more than once: %q %q", p.errOut.String(), tail(p.out.String()))
			}
			if code := p.interrupt(); code != 0 {
				t.Fatalf("exit %d after SIGINT", code)
			}
		})
	}
}

func TestTailClosedWriterNoFollow(t *testing.T) {
	w := startWriter(t, segmentName("closed"), "--count", "20")
	w.goWrite()
	w.written()
	out, errOut, code := runTail(t, "-no-follow", w.name)
	want := fmt.Sprintf("=== writer closed: process %d shut segment /%s down cleanly ===\n", w.cmd.Process.Pid, w.name)
	entries := strings.Count(out, "\n") - strings.Count(out, "\n    ") // LF in a payload continues its line
	if code != 0 || entries != 20 || errOut != want {
		t.Fatalf("exit %d, %d entries, stderr %q, want %q", code, entries, errOut, want)
	}
}

// Items 5 and 6: a restart is an event, followed by the gap of what the new incarnation
// overwrote before the tail re-attached.
func TestTailRestartReportsGap(t *testing.T) {
	name := segmentName("restart")
	first := startWriter(t, name, "--count", "10")
	p := startTail(t, "-json", name)
	first.goWrite()
	first.written()
	p.waitFor(p.out, `"event":"writer_closed"`, 5*time.Second)
	second := startWriter(t, name, "--chunks", "4", "--chunk-size", "1024", "--count", "3000")
	second.goWrite()
	total := second.written()
	p.waitFor(p.out, fmt.Sprintf(`{"type":"entry","seq":%d,`, total), 5*time.Second)
	lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, `"event":"writer_restarted"`) {
			at = i
		}
	}
	if at < 0 || at+2 >= len(lines) {
		t.Fatalf("no restart event: %q", tail(p.out.String()))
	}
	var lost, firstSeq, lastSeq uint64
	if _, err := fmt.Sscanf(lines[at+1], `{"type":"gap","lost":%d,"first_seq":%d,"last_seq":%d,`, &lost, &firstSeq, &lastSeq); err != nil || firstSeq != 1 || lastSeq != lost {
		t.Fatalf("after the restart: %q (%v)", lines[at+1], err)
	}
	if !strings.HasPrefix(lines[at+2], fmt.Sprintf(`{"type":"entry","seq":%d,`, lost+1)) {
		t.Fatalf("first entry after the gap: %q", lines[at+2])
	}
	var delivered uint64
	for _, l := range lines[at+2:] {
		if strings.HasPrefix(l, `{"type":"entry",`) {
			delivered++
		}
		if strings.HasPrefix(l, `{"type":"gap","lost":`) {
			var n uint64
			fmt.Sscanf(l, `{"type":"gap","lost":%d,`, &n)
			lost += n
		}
	}
	if delivered+lost != total {
		t.Fatalf("second incarnation: written %d, delivered %d + lost %d", total, delivered, lost)
	}
	if code := p.interrupt(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// Item 1: the segment shrinks under the tail: reported, the tail survives and keeps following.
func TestTailSegmentTruncated(t *testing.T) {
	w := startWriter(t, segmentName("trunc"), "--chunks", "64", "--chunk-size", "16384", "--seconds", "10",
		"--rate", "20000", "--min-size", "12", "--max-size", "100")
	p := startTail(t, "-json", w.name)
	w.goWrite()
	p.waitFor(p.out, `{"type":"entry","seq":300,`, 5*time.Second)
	if err := os.Truncate("/dev/shm/"+w.name, 4096); err != nil {
		t.Fatal(err)
	}
	p.waitFor(p.out, fmt.Sprintf(`{"type":"event","event":"segment_truncated","segment":"/%s",`, w.name), 5*time.Second)
	p.waitFor(p.out, fmt.Sprintf(`"message":"segment /%s was truncated: another process shrank it under the reader; the entries read so far stand; waiting for it to be restored or re-created"}`, w.name), time.Second)
	if p.exited(300 * time.Millisecond) {
		t.Fatalf("tail ended (exit %d): %q", p.cmd.ProcessState.ExitCode(), p.errOut.String())
	}
	if code := p.interrupt(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
