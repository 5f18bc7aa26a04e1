// Command ouroboros-go-tail prints the entries of an Ouroboros segment (or a dumped buffer) as
// text or JSON lines, following the live segment. It keeps the tail contract of docs/tools.md,
// whose reference is `ouroboros-cli tail`: the same lines, events and escaping, byte for byte
// (python/tests/test_tail_parity.py compares the three tails).
//
//	ouroboros-go-tail [-start oldest|newest|now] [-json] [-file] [-no-follow] [-exit-on-close]
//	                  [-max N] [-utc] [-seq] [-color auto|always|never] NAME
//
// Exit status: 0 ok, 1 runtime failure (also: the segment was truncated and not followed),
// 2 bad command line, 3 segment missing, 4 not a readable log (including a name that is not a
// regular file).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	ouroboros "github.com/ouroboros-log/ouroboros/go"
)

const (
	program     = "ouroboros-go-tail" // the prefix of warnings and errors
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitMissing = 3
	exitNotALog = 4
	// Sleep between polls when there is no data, and how often an idle tail asks whether the
	// writer is done (each check reads /proc): as the CLI.
	pollInterval     = 5 * time.Millisecond
	livenessInterval = 250 * time.Millisecond
	corruptInterval  = time.Second            // at most one corrupt event per second
	reopenInterval   = 100 * time.Millisecond // a truncated segment: how often the name is opened
	// A follow that starts just before its writer creates the segment waits this long for it.
	missingGrace = 2 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	start       ouroboros.Start
	json        bool
	file        bool
	follow      bool
	exitOnClose bool
	max         uint64
	utc         bool
	seq         bool
	color       string
}

// parseCount accepts a whole number from 0 to 2^64 - 1 and nothing else.
func parseCount(flagName, text string) (uint64, error) {
	valid := text != ""
	for _, c := range text {
		if c < '0' || c > '9' {
			valid = false
		}
	}
	n, err := strconv.ParseUint(text, 10, 64)
	if !valid || err != nil {
		return 0, fmt.Errorf("-%s: expected a whole number from 0 to 18446744073709551615, got %q", flagName, text)
	}
	return n, nil
}

const usageLine = "usage: ouroboros-go-tail [-start oldest|newest|now] [-json] [-file] [-no-follow] [-exit-on-close] [-max N] [-utc] [-seq] [-color auto|always|never] NAME"

func usage(stderr io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(stderr, usageLine)
	fs.PrintDefaults()
}

func parse(args []string, stderr io.Writer) (options, string, error) {
	var o options
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	startName := fs.String("start", "oldest", "where to start: oldest, newest or now")
	fs.BoolVar(&o.json, "json", false, "one JSON object per line: entries, gaps and events")
	fs.BoolVar(&o.file, "file", false, "NAME is a dumped buffer file (read once, not followed)")
	noFollow := fs.Bool("no-follow", false, "print what is there now and exit")
	fs.BoolVar(&o.exitOnClose, "exit-on-close", false, "stop once the writer closed the segment or died and everything it wrote was read")
	maxText := fs.String("max", "0", "stop after this many entries (0 = no limit)")
	fs.BoolVar(&o.utc, "utc", false, "show times in UTC instead of local time")
	fs.BoolVar(&o.seq, "seq", false, "prefix each entry with its sequence number")
	fs.StringVar(&o.color, "color", "auto", "colour the text format: auto (on a terminal), always, never")
	if err := fs.Parse(args); err != nil {
		fs.SetOutput(stderr)
		usage(stderr, fs)
		return o, "", err
	}
	if fs.NArg() != 1 {
		fs.SetOutput(stderr)
		usage(stderr, fs)
		return o, "", errors.New("expected exactly one segment name")
	}
	var err error
	if o.start, err = ouroboros.ParseStart(*startName); err != nil {
		return o, "", fmt.Errorf("-start: %v", err)
	}
	if o.max, err = parseCount("max", *maxText); err != nil {
		return o, "", err
	}
	if o.color != "auto" && o.color != "always" && o.color != "never" {
		return o, "", fmt.Errorf("-color: expected auto, always or never, got %q", o.color)
	}
	o.follow = !o.file && !*noFollow
	return o, fs.Arg(0), nil
}

func exitCodeOf(err error) int {
	switch {
	case errors.Is(err, ouroboros.ErrInvalidName):
		return exitUsage
	case errors.Is(err, ouroboros.ErrSegmentNotFound), errors.Is(err, os.ErrNotExist):
		return exitMissing
	case errors.Is(err, ouroboros.ErrNotALog), errors.Is(err, ouroboros.ErrUnsupportedVersion),
		errors.Is(err, ouroboros.ErrCorrupt), errors.Is(err, ouroboros.ErrNotRegularFile):
		return exitNotALog
	}
	return exitFailure
}

var statusText = map[string]string{
	"not_a_log":           "not a log buffer",
	"unsupported_version": "unsupported format version",
	"corrupt":             "corrupt buffer",
}

// errorText: the CLI's words for why NAME cannot be read ("segment '/NAME' is not a readable
// log: not a log buffer (no ring buffer magic)", "segment '/NAME' does not exist (...)").
func errorText(err error, name string, file bool) string {
	var attach *ouroboros.AttachError
	if errors.As(err, &attach) {
		what := "'" + name + "'"
		if !file {
			if canonical, cerr := ouroboros.CanonicalName(name); cerr == nil {
				name = canonical
			}
			what = "segment '" + name + "'"
		}
		status := statusText[attach.Status]
		if status == "" {
			status = attach.Status
		}
		return fmt.Sprintf("%s is not a readable log: %s (%s)", what, status, attach.Detail)
	}
	text := err.Error()
	// The package's errors start with their kind ("invalid segment name: segment name ..."):
	// the message after it is the CLI's.
	for _, kind := range []error{ouroboros.ErrInvalidName, ouroboros.ErrSegmentNotFound, ouroboros.ErrPermission} {
		if errors.Is(err, kind) {
			text = strings.TrimPrefix(text, kind.Error()+": ")
		}
	}
	return text
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, name, err := parse(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %s\n", program, escapeLine(err.Error()))
		return exitUsage
	}
	var r *ouroboros.Reader
	if o.file {
		r, err = ouroboros.FromFile(name, o.start)
	} else {
		r, err = openFollowing(ctx, name, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %s\n", program, escapeLine(errorText(err, name, o.file)))
		return exitCodeOf(err)
	}
	t := &tailer{o: o, r: r, out: bufio.NewWriterSize(stdout, 1<<16), stderr: stderr,
		segment: r.Name(), warned: -1}
	if o.file {
		t.segment = name
	}
	t.text = textFormat{utc: o.utc, seq: o.seq, color: !o.json && colorWanted(o.color, stdout)}
	t.errColor = !o.json && colorWanted(o.color, stderr)
	defer func() { t.r.Close() }()
	defer t.out.Flush()
	t.refresh()
	t.checkOwner()
	return t.loop(ctx)
}

// colorWanted: -color auto colours a terminal unless NO_COLOR is set or TERM is dumb (as the CLI).
func colorWanted(mode string, w io.Writer) bool {
	if mode != "auto" {
		return mode == "always"
	}
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f.Fd()) {
		return false
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	return !noColor && os.Getenv("TERM") != "dumb"
}

// openFollowing opens the named segment; when following, a segment that does not exist yet (or
// was created but not formatted yet) is given missingGrace (a writer started a moment ago by
// the same script).
func openFollowing(ctx context.Context, name string, o options) (*ouroboros.Reader, error) {
	giveUp := time.Now().Add(missingGrace)
	for {
		r, err := ouroboros.Open(name, o.start)
		transient := errors.Is(err, ouroboros.ErrSegmentNotFound) || errors.Is(err, ouroboros.ErrNotALog) &&
			!errors.Is(err, ouroboros.ErrNotRegularFile)
		if err == nil || !o.follow || !transient || time.Now().After(giveUp) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tailer is the CLI's segment_follower and run_tail: entries, gaps and events of one segment;
// the writer's end said once per incarnation; a truncated segment re-opened when following.
type tailer struct {
	o        options
	r        *ouroboros.Reader
	out      *bufio.Writer
	stderr   io.Writer
	segment  string // the canonical name (/name), or the dump's path
	text     textFormat
	errColor bool
	shown    uint64
	buf      []byte

	reported     ouroboros.Liveness // what was last said about the writer (Alive: nothing)
	pid          uint64
	incarn       uint64
	nextLiveness time.Time
	warned       int64 // the owner last warned about (-1: none yet)

	// Sequence number of the last entry delivered or reported lost (this incarnation).
	lastSeq uint64
	// After re-opening a truncated segment: the sequence number the next entry or gap should
	// start at (0: no expectation). Earlier ones were shown already; a later start is a gap.
	expectNext uint64

	corruptPending uint64 // corrupt reads not reported yet
	corruptDetail  string // the last of them
	nextCorrupt    time.Time
}

// errStop: -max reached, or a signal: end at once (nothing pending is reported, as the CLI).
var errStop = errors.New("stop")

func (t *tailer) loop(ctx context.Context) int {
	code, err := t.follow(ctx)
	if err == errStop {
		return exitOK
	}
	if err != nil {
		t.out.Flush()
		fmt.Fprintf(t.stderr, "%s: error: %s\n", program, escapeLine(err.Error()))
		return exitFailure
	}
	return code
}

func (t *tailer) follow(ctx context.Context) (int, error) {
	ending := false
	var endingAt time.Time
	since := 0 // reads since ctx was last looked at
	for {
		if since++; since >= 1024 {
			since = 0
			if ctx.Err() != nil {
				return exitOK, errStop
			}
		}
		ev, err := t.r.Next()
		if err != nil {
			return exitFailure, err
		}
		switch ev.Status {
		case ouroboros.OK:
			if err := t.entry(ev.Entry); err != nil {
				return exitOK, err
			}
		case ouroboros.Lapped:
			t.lapped(ev.Lost)
		case ouroboros.Corrupt:
			t.corruptPending++
			t.corruptDetail = ev.Detail
			t.reportCorrupt(false)
		case ouroboros.WriterRestarted:
			ending = false
			t.lastSeq, t.expectNext = 0, 0
			t.refresh()
			t.out.Flush()
			t.checkOwner()
			// The new incarnation's entries before its oldest one were overwritten before the
			// reader found it: the reader's next result is that gap (1..k).
			t.event("writer_restarted", "", 0)
		case ouroboros.SegmentTruncated:
			t.reportCorrupt(true)
			detail := ""
			if t.o.follow {
				detail = "waiting for it to be restored or re-created"
			}
			t.event("segment_truncated", detail, 0)
			t.out.Flush()
			if !t.o.follow {
				// What was read stands, but the rest of the log could not be read.
				return exitFailure, nil
			}
			ending = false
			if code, done := t.reopenAfterTruncation(ctx); done {
				return code, nil
			}
		case ouroboros.Reattached:
			// The reader's own re-attach: the tail re-opens the name itself (never reached).
		case ouroboros.NoData:
			since = 0
			t.reportCorrupt(false)
			t.out.Flush()
			if !t.o.follow {
				// Everything there was has been read: say how the writer ended, if it did.
				t.reportCorrupt(true)
				t.checkWriter()
				t.out.Flush()
				return exitOK, nil
			}
			if ctx.Err() != nil {
				return exitOK, errStop
			}
			now := time.Now()
			// The writer ended and everything written before that has been read. A restarting
			// writer closes its old segment before creating the new one: the grace period lets
			// the reader notice the new one first (a restart clears `ending`).
			if ending && !now.Before(endingAt) {
				t.reportCorrupt(true)
				t.out.Flush()
				return exitOK, nil
			}
			if !now.Before(t.nextLiveness) {
				t.checkWriter()
				t.out.Flush()
				// One more pass first: entries written just before the close are still to be read.
				if t.o.exitOnClose && t.reported != ouroboros.Alive && !ending {
					ending = true
					endingAt = now.Add(2 * t.r.ReplacedCheckInterval)
					continue
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(pollInterval):
			}
		}
	}
}

// reopenAfterTruncation lets the truncated mapping go and opens the name every 100 ms until it
// is a readable segment again: the same incarnation restored to at least its old size (reading
// resumes after the last entry shown; what was written meanwhile is a gap), or a new
// incarnation (a restart, with a gap from 1). Meanwhile the writer's end is still said once
// (the header survives a shrink), and ends the tail under -exit-on-close. done is false once
// attached again.
func (t *tailer) reopenAfterTruncation(ctx context.Context) (code int, done bool) {
	oldIncarnation := t.incarn
	oldSize := t.r.MappedSize()
	name := t.r.Name()
	t.r.Close()
	for {
		select {
		case <-ctx.Done():
			return exitOK, true
		case <-time.After(reopenInterval):
		}
		fresh, err := ouroboros.Open(name, ouroboros.Oldest)
		if err != nil {
			continue // missing, half-written, not a log (yet): it may become one again
		}
		info, ok := fresh.Extension()
		incarnation := uint64(0)
		if ok {
			incarnation = info.Incarnation
		}
		same := incarnation == oldIncarnation
		if fresh.Truncated() != nil || (same && fresh.MappedSize() < oldSize) {
			// Still shrunk (the same segment, smaller than it was), or shrinking again.
			if same && fresh.Truncated() == nil && t.writerEnd(fresh) {
				t.out.Flush()
				if t.o.exitOnClose {
					fresh.Close()
					return exitOK, true
				}
			}
			fresh.Close()
			continue
		}
		t.r = fresh
		reported := t.reported
		t.refresh()
		t.out.Flush()
		t.checkOwner()
		if same {
			// Restored: what the writer wrote meanwhile into its private pages reached no
			// reader, and comes out as a gap. Its end, if reported while shrunk, is not news.
			t.reported = reported
			t.expectNext = t.lastSeq + 1
			t.event("attached", "", 0)
			return 0, false
		}
		t.lastSeq = 0
		t.expectNext = 1 // everything of the new incarnation before its oldest entry is a gap
		t.event("writer_restarted", "", 0)
		return 0, false
	}
}

// refresh: after (re-)attaching, who writes this segment now.
func (t *tailer) refresh() {
	info, ok := t.r.Extension()
	t.pid, t.incarn = 0, 0
	if ok {
		t.pid, t.incarn = info.WriterPID, info.Incarnation
	}
	t.reported = ouroboros.Alive
	t.nextLiveness = time.Now()
}

func (t *tailer) checkWriter() {
	t.nextLiveness = time.Now().Add(livenessInterval)
	if !t.o.file {
		t.writerEnd(t.r)
	}
}

// writerEnd reports the writer gone or closed, once per incarnation (true when it did now).
func (t *tailer) writerEnd(r *ouroboros.Reader) bool {
	now := r.Liveness()
	if now == t.reported || now == ouroboros.Alive || now == ouroboros.LivenessUnknown {
		return false
	}
	t.reported = now
	if now == ouroboros.Closed {
		t.event("writer_closed", "", 0)
		return true
	}
	detail := ""
	if info, ok := r.Extension(); ok && info.HeartbeatUnixNs != 0 {
		wall := uint64(time.Now().UnixNano())
		if wall > info.HeartbeatUnixNs {
			detail = fmt.Sprintf("last heartbeat %.1f s ago", float64(wall-info.HeartbeatUnixNs)/1e9)
		}
	}
	t.event("writer_gone", detail, 0)
	return true
}

// reportCorrupt reports the corrupt reads not reported yet, once a second has passed since the
// last report (or when force: the reader is about to stop).
func (t *tailer) reportCorrupt(force bool) {
	if t.corruptPending == 0 {
		return
	}
	now := time.Now()
	if !force && now.Before(t.nextCorrupt) {
		return
	}
	count := t.corruptPending
	t.corruptPending = 0
	t.nextCorrupt = now.Add(corruptInterval)
	t.event("corrupt", t.corruptDetail, count)
}

// checkOwner warns once per owner, again only when the owner changed (after a restart).
func (t *tailer) checkOwner() {
	uid, ok := t.r.Owner()
	me := os.Geteuid()
	if !ok || int(uid) == me || int64(uid) == t.warned {
		return
	}
	t.warned = int64(uid)
	owner := lookupUser(uid)
	if owner == "" {
		owner = strconv.FormatUint(uint64(uid), 10)
	}
	t.out.Flush()
	fmt.Fprintf(t.stderr, "%s: warning: segment %s is owned by user %s (uid %d), not by you (uid %d)\n",
		program, escapeLine(t.segment), escapeLine(owner), uid, me)
}

// lookupUser finds a uid's name in /etc/passwd ("" when unknown). Read directly so the tail
// needs no cgo (os/user would use the C library's NSS).
func lookupUser(uid uint32) string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	want := strconv.FormatUint(uint64(uid), 10)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[2] == want {
			return f[0]
		}
	}
	return ""
}

// event: on stderr as a text line (after the data read before it), or a JSON object in the
// stream in JSON mode.
func (t *tailer) event(kind, detail string, count uint64) {
	e := event{kind: kind, segment: t.segment, pid: t.pid, incarnation: t.incarn, detail: detail, count: count}
	if t.o.json {
		t.buf = e.json(t.buf[:0])
		t.out.Write(t.buf)
		return
	}
	t.out.Flush() // keep the order of stdout and stderr on a terminal
	io.WriteString(t.stderr, e.text(t.errColor))
}

func (t *tailer) gap(first, last uint64) {
	t.lastSeq = last
	lost := uint64(0)
	if first <= last {
		lost = last - first + 1
	}
	t.writeGap(lost, first, last)
}

func (t *tailer) writeGap(lost, first, last uint64) {
	if t.o.json {
		t.buf = jsonGap(t.buf[:0], lost, first, last)
	} else {
		t.buf = t.text.gap(t.buf[:0], describeGap(lost, first, last))
	}
	t.out.Write(t.buf)
}

// lapped: `lost` entries up to and including the reader's position were overwritten.
func (t *tailer) lapped(lost uint64) {
	last := t.r.Position()
	first := last
	if lost != 0 && lost <= last {
		first = last - lost + 1
	}
	if t.expectNext != 0 {
		expected := t.expectNext
		t.expectNext = 0
		if last < expected {
			t.expectNext = expected
			return
		}
		first = expected
		lost = last - first + 1
	}
	t.lastSeq = last
	t.writeGap(lost, first, last)
}

func (t *tailer) entry(e *ouroboros.Entry) error {
	if t.expectNext != 0 {
		expected := t.expectNext
		t.expectNext = 0
		if e.Seq < expected {
			t.expectNext = expected // shown before the segment was truncated
			return nil
		}
		if e.Seq > expected {
			t.gap(expected, e.Seq-1)
		}
	}
	t.lastSeq = e.Seq
	if t.o.json {
		t.buf = jsonEntry(t.buf[:0], e)
	} else {
		t.buf = t.text.entry(t.buf[:0], e)
	}
	t.out.Write(t.buf)
	t.shown++
	if t.o.max != 0 && t.shown >= t.o.max {
		return errStop
	}
	return nil
}
