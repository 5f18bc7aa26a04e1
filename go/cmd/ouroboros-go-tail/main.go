// Command ouroboros-go-tail prints the entries of an Ouroboros segment (or a dumped buffer) as
// text or JSON lines, following the live segment until its writer is done.
//
//	ouroboros-go-tail [-start oldest|newest|now] [-json] [-file] [-no-follow] [-max N] NAME
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
	"unicode/utf8"

	ouroboros "github.com/ouroboros-log/ouroboros/go"
)

func timeText(e *ouroboros.Entry) string {
	if !e.HasTime {
		return "-"
	}
	return time.Unix(0, int64(e.UnixNs)).UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// printable keeps a payload from driving the terminal: control characters become U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7F {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func text(e *ouroboros.Entry) string {
	switch e.Kind {
	case ouroboros.KindRecord:
		r := e.Record
		var b strings.Builder
		fmt.Fprintf(&b, "%d %s %-8s [%s] (thread %d) %s", e.Seq, timeText(e), r.Level, r.Tag, r.Thread, r.Message)
		if r.Truncated() {
			b.WriteString(" [truncated]")
		}
		for _, f := range r.Fields {
			fmt.Fprintf(&b, " %s=%s", f.Key, f.Value)
		}
		return printable(b.String())
	case ouroboros.Malformed:
		return fmt.Sprintf("%d malformed record (%v): %s", e.Seq, e.Error, hex.EncodeToString(e.Payload))
	}
	return printable(fmt.Sprintf("%d %s", e.Seq, e.Message()))
}

func jsonLine(e *ouroboros.Entry) map[string]any {
	out := map[string]any{"seq": e.Seq, "kind": e.Kind.String()}
	if e.LostBefore > 0 {
		out["lost_before"] = e.LostBefore
	}
	if e.Restarted {
		out["restarted"] = true
	}
	if e.Kind == ouroboros.KindRecord {
		r := e.Record
		fields := map[string]string{}
		for _, f := range r.Fields {
			fields[f.Key] = f.Value
		}
		out["time"] = timeText(e)
		if e.HasTime {
			out["unix_ns"] = e.UnixNs
		}
		out["level"] = r.Level.String()
		out["tag"] = r.Tag
		out["thread"] = r.Thread
		out["message"] = r.Message
		out["fields"] = fields
		out["truncated"] = r.Truncated()
		return out
	}
	if utf8.Valid(e.Payload) {
		out["message"] = string(e.Payload)
	} else {
		out["payload_hex"] = hex.EncodeToString(e.Payload)
	}
	if e.Error != nil {
		out["error"] = e.Error.Error()
	}
	return out
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ouroboros-go-tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	startName := fs.String("start", "oldest", "oldest, newest or now")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	isFile := fs.Bool("file", false, "NAME is a dumped buffer file")
	noFollow := fs.Bool("no-follow", false, "print what is there now and exit")
	maxEntries := fs.Int("max", 0, "stop after this many entries")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: ouroboros-go-tail [flags] NAME")
		return 2
	}
	start, err := ouroboros.ParseStart(*startName)
	if err != nil {
		fmt.Fprintln(stderr, "ouroboros-go-tail:", err)
		return 2
	}
	var r *ouroboros.Reader
	if *isFile {
		r, err = ouroboros.FromFile(fs.Arg(0), start)
	} else {
		r, err = ouroboros.Open(fs.Arg(0), start)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ouroboros-go-tail:", err)
		return 1
	}
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	follow := !*isFile && !*noFollow
	for count := 0; *maxEntries == 0 || count < *maxEntries; count++ {
		var e *ouroboros.Entry
		if follow {
			w.Flush()
			e, err = r.Wait(ctx, 2*time.Millisecond)
		} else {
			e, err = r.Available()
		}
		if err != nil || e == nil {
			break
		}
		if e.Restarted {
			if *asJSON {
				_ = enc.Encode(map[string]any{"event": "restarted"})
			} else {
				fmt.Fprintln(w, "-- segment re-created by a new writer; re-attached --")
			}
		}
		if e.LostBefore > 0 {
			if *asJSON {
				_ = enc.Encode(map[string]any{"event": "lost", "lost": e.LostBefore})
			} else {
				fmt.Fprintf(w, "-- %d entries lost --\n", e.LostBefore)
			}
		}
		if *asJSON {
			_ = enc.Encode(jsonLine(e))
		} else {
			fmt.Fprintln(w, text(e))
		}
	}
	return 0
}
