// Command ouroboros-go-tail prints the entries of an Ouroboros segment (or a dumped buffer) as
// text or JSON lines, following the live segment, as every tail of the project does
// (go/README.md: entries and gaps on stdout; events on stderr, or on stdout as JSON objects).
//
//	ouroboros-go-tail [-start oldest|newest|now] [-json] [-file] [-no-follow] [-exit-on-close] [-max N] NAME
//
// Exit status: 0 ok, 1 runtime failure (also: the segment was truncated and not followed),
// 2 bad command line, 3 segment missing, 4 not a readable log (including a name that is not a
// regular file).
package main

import (
	"bufio"
	"context"
	"encoding/hex"
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
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitMissing  = 3
	exitNotALog  = 4
	pollInterval = 2 * time.Millisecond
	// How often the writer's liveness is checked while there is no data (each check reads /proc).
	livenessInterval = 20 * time.Millisecond
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

func usage(stderr io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(stderr, "usage: ouroboros-go-tail [-start oldest|newest|now] [-json] [-file] [-no-follow] [-exit-on-close] [-max N] NAME")
	fs.PrintDefaults()
}

func parse(args []string, stderr io.Writer) (options, string, error) {
	var o options
	fs := flag.NewFlagSet("ouroboros-go-tail", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	startName := fs.String("start", "oldest", "where to start: oldest, newest or now")
	fs.BoolVar(&o.json, "json", false, "one JSON object per line: entries, gaps and events")
	fs.BoolVar(&o.file, "file", false, "NAME is a dumped buffer file (read once, not followed)")
	noFollow := fs.Bool("no-follow", false, "print what is there now and exit")
	fs.BoolVar(&o.exitOnClose, "exit-on-close", false, "stop once the writer closed the segment or died and everything it wrote was read")
	maxText := fs.String("max", "0", "stop after this many entries (0 = no limit)")
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, name, err := parse(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ouroboros-go-tail: error: %s\n", escapeLine(err.Error()))
		return exitUsage
	}
	var r *ouroboros.Reader
	if o.file {
		r, err = ouroboros.FromFile(name, o.start)
	} else {
		r, err = openFollowing(ctx, name, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ouroboros-go-tail: error: %s\n", escapeLine(err.Error()))
		return exitCodeOf(err)
	}
	defer r.Close()
	t := &tailer{o: o, r: r, out: bufio.NewWriterSize(stdout, 1<<16), stderr: stderr,
		segment: strings.TrimPrefix(name, "/"), reported: ouroboros.Alive, ownerUID: -1}
	if o.file {
		t.segment = name
	}
	defer t.out.Flush()
	t.warnOwner()
	return t.loop(ctx)
}

// openFollowing opens the named segment; when following, a segment that does not exist yet is
// given missingGrace to appear (a writer started a moment ago by the same script).
func openFollowing(ctx context.Context, name string, o options) (*ouroboros.Reader, error) {
	giveUp := time.Now().Add(missingGrace)
	for {
		r, err := ouroboros.Open(name, o.start)
		if err == nil || !o.follow || !errors.Is(err, ouroboros.ErrSegmentNotFound) || time.Now().After(giveUp) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type tailer struct {
	o       options
	r       *ouroboros.Reader
	out     *bufio.Writer
	stderr  io.Writer
	segment string // as shown: the name without its leading '/', or the dump's path
	shown   uint64

	reported ouroboros.Liveness // what was last said about the writer
	pid      uint64
	incarn   uint64
	ownerUID int64 // the owner last warned about (-1: none yet)

	corruptCount  int       // corrupt reads not reported yet
	corruptDetail string    // the last of them
	corruptAt     time.Time // when the last corrupt event was printed
}

func (t *tailer) loop(ctx context.Context) int {
	t.refreshWriter()
	ending := false
	var endingAt, nextLiveness time.Time
	for {
		if ctx.Err() != nil {
			t.finish()
			return exitOK
		}
		ev, err := t.r.Next()
		if err != nil {
			t.finish()
			fmt.Fprintf(t.stderr, "ouroboros-go-tail: error: %v\n", err)
			return exitFailure
		}
		switch ev.Status {
		case ouroboros.OK:
			t.entry(ev.Entry)
			t.shown++
			if t.o.max != 0 && t.shown >= t.o.max {
				t.finish()
				return exitOK
			}
		case ouroboros.Lapped:
			t.gap(ev.Lost, t.r.Position())
		case ouroboros.Corrupt:
			t.corrupt(ev.Detail)
		case ouroboros.WriterRestarted:
			ending = false
			t.refreshWriter()
			what := "segment re-created"
			if t.incarn != 0 {
				what = fmt.Sprintf("new incarnation %016x%s", t.incarn, t.pidNote(", pid "))
			}
			t.event("writer_restarted", fmt.Sprintf("writer of segment %s restarted (%s); re-attached at its oldest entry, sequence numbers restart", t.segment, what))
			t.warnOwner()
		case ouroboros.SegmentTruncated:
			var te *ouroboros.TruncatedError
			what := "was truncated"
			if errors.As(ev.Err, &te) {
				what = fmt.Sprintf("was truncated: its file shrank to %d bytes, below the %d bytes mapped", te.Size, te.Mapped)
				if te.Size < 0 {
					what = fmt.Sprintf("was truncated below the %d bytes mapped and removed", te.Mapped)
				}
			}
			if !t.o.follow {
				t.event("segment_truncated", fmt.Sprintf("segment %s %s; stopped reading it after %d entries", t.segment, what, t.r.Delivered()))
				t.finish()
				return exitFailure
			}
			t.event("segment_truncated", fmt.Sprintf("segment %s %s; stopped reading it after %d entries, waiting for it to be restored or re-created", t.segment, what, t.r.Delivered()))
		case ouroboros.Reattached:
			t.event("attached", fmt.Sprintf("re-attached to segment %s: its file is back at its full size", t.segment))
		case ouroboros.NoData:
			t.out.Flush()
			now := time.Now()
			if t.corruptCount > 0 && now.Sub(t.corruptAt) >= time.Second {
				t.flushCorrupt()
			}
			if !t.o.follow {
				if !t.o.file {
					t.checkWriter()
				}
				t.finish()
				return exitOK
			}
			if ending && !now.Before(endingAt) {
				t.finish()
				return exitOK
			}
			if !now.Before(nextLiveness) {
				nextLiveness = now.Add(livenessInterval)
				t.checkWriter()
				// One more pass first (entries written just before the end are still to be
				// read), and time for a restarting writer's new segment to show up.
				if t.o.exitOnClose && !ending && (t.reported == ouroboros.Gone || t.reported == ouroboros.Closed) {
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

func (t *tailer) finish() {
	if t.corruptCount > 0 {
		t.flushCorrupt()
	}
	t.out.Flush()
}

func (t *tailer) refreshWriter() {
	info, ok := t.r.Extension()
	t.pid, t.incarn = 0, 0
	if ok {
		t.pid, t.incarn = info.WriterPID, info.Incarnation
	}
	t.reported = ouroboros.Alive
}

func (t *tailer) pidNote(prefix string) string {
	if t.pid == 0 {
		return ""
	}
	return fmt.Sprintf("%s%d", prefix, t.pid)
}

// checkWriter reports once that the writer died or closed the segment.
func (t *tailer) checkWriter() {
	now := t.r.Liveness()
	if now == t.reported || now == ouroboros.Alive || now == ouroboros.LivenessUnknown {
		return
	}
	t.reported = now
	if now == ouroboros.Gone {
		t.event("writer_gone", fmt.Sprintf("writer of segment %s (pid %d) is gone (process died)", t.segment, t.pid))
	} else {
		t.event("writer_closed", fmt.Sprintf("writer of segment %s (pid %d) closed it cleanly", t.segment, t.pid))
	}
}

// corrupt reports damaged data skipped by the reader: at once, then at most once a second with
// the number of corrupt reads the report covers.
func (t *tailer) corrupt(detail string) {
	t.corruptCount++
	t.corruptDetail = detail
	if time.Since(t.corruptAt) >= time.Second {
		t.flushCorrupt()
	}
}

func (t *tailer) flushCorrupt() {
	message := fmt.Sprintf("corrupt data skipped in segment %s: %s", t.segment, t.corruptDetail)
	if t.corruptCount > 1 {
		message += fmt.Sprintf(" (%d corrupt reads)", t.corruptCount)
	}
	t.corruptCount = 0
	t.corruptAt = time.Now()
	t.eventWithout("corrupt", message)
}

func (t *tailer) warnOwner() {
	uid, ok := t.r.Owner()
	if !ok || int(uid) == os.Geteuid() || int64(uid) == t.ownerUID {
		return
	}
	t.ownerUID = int64(uid)
	owner := lookupUser(uid)
	if owner == "" {
		owner = strconv.FormatUint(uint64(uid), 10)
	}
	t.out.Flush()
	fmt.Fprintf(t.stderr, "warning: segment %s is owned by user %s (uid %d), not by you (uid %d)\n",
		escapeLine(t.segment), escapeLine(owner), uid, os.Geteuid())
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

// event: stderr in text mode, a JSON object on stdout in JSON mode (with pid and incarnation
// when known).
func (t *tailer) event(kind, message string) { t.emitEvent(kind, message, true) }

// eventWithout: an event that is about the data, not the writer (no pid/incarnation).
func (t *tailer) eventWithout(kind, message string) { t.emitEvent(kind, message, false) }

func (t *tailer) emitEvent(kind, message string, withWriter bool) {
	if !t.o.json {
		t.out.Flush() // keep the order of stdout and stderr on a terminal
		fmt.Fprintf(t.stderr, "=== %s ===\n", escapeLine(message))
		return
	}
	var b []byte
	b = append(b, `{"type":"event","event":"`...)
	b = append(b, kind...)
	b = append(b, `","segment":`...)
	b = appendJSONString(b, t.segment)
	if withWriter && t.pid != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendUint(b, t.pid, 10)
	}
	if withWriter && t.incarn != 0 {
		b = append(b, fmt.Sprintf(`,"incarnation":"%016x"`, t.incarn)...)
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	b = append(b, "}\n"...)
	t.out.Write(b)
}

func describeGap(lost, first, last uint64) string {
	if lost == 1 {
		return fmt.Sprintf("1 entry overwritten, seq %d", first)
	}
	return fmt.Sprintf("%d entries overwritten, seq %d\u2013%d", lost, first, last)
}

// gap: `lost` entries up to and including sequence number `last` were overwritten.
func (t *tailer) gap(lost, last uint64) {
	first := last
	if lost != 0 && lost <= last {
		first = last - lost + 1
	}
	if !t.o.json {
		fmt.Fprintf(t.out, "--- %s ---\n", describeGap(lost, first, last))
		return
	}
	b := []byte(`{"type":"gap","lost":`)
	b = strconv.AppendUint(b, lost, 10)
	b = append(b, `,"first_seq":`...)
	b = strconv.AppendUint(b, first, 10)
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendUint(b, last, 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, describeGap(lost, first, last))
	b = append(b, "}\n"...)
	t.out.Write(b)
}

func (t *tailer) entry(e *ouroboros.Entry) {
	if t.o.json {
		t.out.Write(jsonEntry(nil, e))
	} else {
		t.out.Write(textEntry(nil, e))
	}
}

// timeText: ISO 8601 UTC with nanoseconds (unsigned: any u64 is a time).
func timeText(unixNs uint64) string {
	sec, frac := unixNs/1_000_000_000, unixNs%1_000_000_000
	return time.Unix(int64(sec), 0).UTC().Format("2006-01-02T15:04:05") + fmt.Sprintf(".%09dZ", frac)
}

func textEntry(b []byte, e *ouroboros.Entry) []byte {
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, ' ')
	switch e.Kind {
	case ouroboros.KindRecord:
		r := e.Record
		when := "-"
		if e.HasTime {
			when = timeText(e.UnixNs)
		}
		b = append(b, fmt.Sprintf("%s %-8s [", when, r.Level)...)
		b = appendEscaped(b, r.Tag, false)
		b = append(b, fmt.Sprintf("] (thread %d) ", r.Thread)...)
		b = appendEscaped(b, r.Message, true)
		if r.Truncated() {
			b = append(b, " [truncated]"...)
		}
		for _, f := range r.Fields {
			b = append(b, ' ')
			b = appendEscaped(b, f.Key, false)
			b = append(b, '=')
			b = appendFieldValue(b, f.Value)
		}
	case ouroboros.Malformed:
		b = append(b, fmt.Sprintf("malformed record (%v): %s", e.Error, hex.EncodeToString(e.Payload))...)
	default:
		b = appendEscaped(b, string(e.Payload), true)
	}
	return append(b, '\n')
}

// jsonEntry: the CLI's entry object, keys in its order.
func jsonEntry(b []byte, e *ouroboros.Entry) []byte {
	b = append(b, `{"type":"entry","seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	r := e.Record
	if r != nil {
		if e.HasTime && e.UnixNs != 0 {
			b = append(b, `,"time":"`...)
			b = append(b, timeText(e.UnixNs)...)
			b = append(b, `","time_ns":`...)
			b = strconv.AppendUint(b, e.UnixNs, 10)
		}
		b = append(b, `,"level":"`...)
		b = append(b, r.Level.String()...)
		b = append(b, `","tag":`...)
		b = appendJSONString(b, r.Tag)
		b = append(b, `,"thread":`...)
		b = strconv.AppendUint(b, uint64(r.Thread), 10)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, r.Message)
	} else {
		b = append(b, `,"message":`...)
		b = appendJSONString(b, string(e.Payload))
		if !validUTF8(e.Payload) {
			b = append(b, `,"binary":true`...)
		}
	}
	if e.Kind == ouroboros.Malformed && e.Error != nil {
		b = append(b, `,"malformed":`...)
		b = appendJSONString(b, e.Error.Error())
	}
	if r != nil && r.Truncated() {
		b = append(b, `,"truncated":true`...)
	}
	if r != nil && len(r.Fields) > 0 {
		b = append(b, `,"fields":{`...)
		for i, f := range r.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Key)
			b = append(b, ':')
			b = appendJSONString(b, f.Value)
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}
