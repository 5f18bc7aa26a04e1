package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ouroboros "github.com/ouroboros-log/ouroboros/go"
)

// The lines of the tail contract (docs/tools.md), byte for byte those of `ouroboros-cli tail`
// (tools/lib/src/entry_format.cpp): python/tests/test_tail_parity.py compares the three tails.

const (
	reset  = "\x1b[0m"
	dim    = "\x1b[2m"
	noTime = "(no time)                 " // as wide as a time
)

var (
	levelLabels = [...]string{"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "CRIT "}
	levelColors = [...]string{"\x1b[2m", "\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1;37;41m"}
)

// textFormat: [#SEQ] TIME LEVEL TAG [THREAD] MESSAGE k=v ... (the CLI's format_text).
type textFormat struct {
	utc, seq, color bool

	second     uint64 // the second last formatted (one Format call per second)
	secondText string
	valid      bool
}

// appendTime: "YYYY-MM-DD HH:MM:SS.uuuuuu", local time (or UTC).
func (f *textFormat) appendTime(b []byte, unixNs uint64) []byte {
	second := unixNs / 1_000_000_000
	if !f.valid || second != f.second {
		t := time.Unix(int64(second), 0)
		if f.utc {
			t = t.UTC()
		}
		f.secondText = t.Format("2006-01-02 15:04:05")
		f.second, f.valid = second, true
	}
	b = append(b, f.secondText...)
	micros := unixNs % 1_000_000_000 / 1000
	return append(b, fmt.Sprintf(".%06d", micros)...)
}

func (f *textFormat) entry(b []byte, e *ouroboros.Entry) []byte {
	if f.seq {
		if f.color {
			b = append(b, dim...)
		}
		b = append(b, '#')
		b = strconv.AppendUint(b, e.Seq, 10)
		b = append(b, ' ')
		if f.color {
			b = append(b, reset...)
		}
	}
	if r := e.Record; e.Kind == ouroboros.KindRecord && r != nil {
		if f.color {
			b = append(b, dim...)
		}
		if e.HasTime && e.UnixNs != 0 {
			b = f.appendTime(b, e.UnixNs)
		} else {
			b = append(b, noTime...)
		}
		if f.color {
			b = append(b, reset...)
		}
		b = append(b, ' ')
		level := int(r.Level)
		if level >= len(levelLabels) {
			level = int(ouroboros.Info)
		}
		if f.color {
			b = append(b, levelColors[level]...)
		}
		b = append(b, levelLabels[level]...)
		if f.color {
			b = append(b, reset...)
		}
		b = append(b, ' ')
		if f.color {
			b = append(b, "\x1b[35m"...)
		}
		b = appendEscaped(b, r.Tag, false)
		for pad := len(r.Tag); pad < 8; pad++ { // by the tag's bytes, as the CLI
			b = append(b, ' ')
		}
		if f.color {
			b = append(b, reset...)
		}
		b = append(b, " ["...)
		b = strconv.AppendUint(b, uint64(r.Thread), 10)
		b = append(b, "] "...)
		b = appendEscaped(b, r.Message, true)
		if r.Truncated() {
			b = append(b, " [truncated]"...)
		}
		for _, field := range r.Fields {
			b = append(b, ' ')
			if f.color {
				b = append(b, dim...)
			}
			b = appendEscaped(b, field.Key, false)
			b = append(b, '=')
			if f.color {
				b = append(b, reset...)
			}
			b = appendFieldValue(b, field.Value)
		}
	} else {
		if e.Kind == ouroboros.Malformed {
			if f.color {
				b = append(b, "\x1b[31m"...)
			}
			b = append(b, "[malformed record: "...)
			if e.Error != nil {
				b = append(b, e.Error.Error()...)
			}
			b = append(b, "] "...)
			if f.color {
				b = append(b, reset...)
			}
		}
		b = appendEscaped(b, string(e.Payload), true)
	}
	return append(b, '\n')
}

func (f *textFormat) gap(b []byte, message string) []byte {
	if f.color {
		b = append(b, "\x1b[1;33m"...)
	}
	b = append(b, "--- "...)
	b = append(b, message...)
	b = append(b, " ---"...)
	if f.color {
		b = append(b, reset...)
	}
	return append(b, '\n')
}

// jsonTime: "2024-05-01T12:34:56.123456789Z" (UTC, nanoseconds; any u64 is a time).
func jsonTime(unixNs uint64) string {
	sec, frac := unixNs/1_000_000_000, unixNs%1_000_000_000
	return time.Unix(int64(sec), 0).UTC().Format("2006-01-02T15:04:05") + fmt.Sprintf(".%09dZ", frac)
}

// jsonEntry: the CLI's entry object (format_json), keys in its order.
func jsonEntry(b []byte, e *ouroboros.Entry) []byte {
	b = append(b, `{"type":"entry","seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	if r := e.Record; e.Kind == ouroboros.KindRecord && r != nil {
		if e.HasTime && e.UnixNs != 0 {
			b = append(b, `,"time":"`...)
			b = append(b, jsonTime(e.UnixNs)...)
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
		if r.Truncated() {
			b = append(b, `,"truncated":true`...)
		}
		if len(r.Fields) > 0 {
			b = append(b, `,"fields":{`...)
			for i, f := range r.Fields {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, f.Key)
				b = append(b, ':')
				b = appendJSONFieldValue(b, f)
			}
			b = append(b, '}')
		}
		return append(b, "}\n"...)
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, string(e.Payload))
	if !utf8.Valid(e.Payload) {
		b = append(b, `,"binary":true`...)
	}
	if e.Kind == ouroboros.Malformed && e.Error != nil {
		b = append(b, `,"malformed":`...)
		b = appendJSONString(b, e.Error.Error())
	}
	return append(b, "}\n"...)
}

// describeGap: "12 entries overwritten, seq 101–112" (or "1 entry overwritten, seq 7").
func describeGap(lost, first, last uint64) string {
	if lost == 1 {
		return fmt.Sprintf("1 entry overwritten, seq %d", first)
	}
	return fmt.Sprintf("%d entries overwritten, seq %d\u2013%d", lost, first, last)
}

func jsonGap(b []byte, lost, first, last uint64) []byte {
	b = append(b, `{"type":"gap","lost":`...)
	b = strconv.AppendUint(b, lost, 10)
	b = append(b, `,"first_seq":`...)
	b = strconv.AppendUint(b, first, 10)
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendUint(b, last, 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, describeGap(lost, first, last))
	return append(b, "}\n"...)
}

// event is something that happened to the segment (the CLI's segment_event).
type event struct {
	kind        string // attached, writer_restarted, writer_gone, writer_closed, corrupt, segment_truncated
	segment     string // the canonical name (/name), or a dump's path
	pid         uint64 // 0 when unknown
	incarnation uint64 // 0 when unknown
	detail      string
	count       uint64 // corrupt: the corrupt reads this event covers
}

// message: the CLI's describe_event, word for word.
func (e *event) message() string {
	switch e.kind {
	case "attached":
		if e.pid != 0 {
			return fmt.Sprintf("attached to segment %s (writer pid %d)", e.segment, e.pid)
		}
		return fmt.Sprintf("attached to segment %s", e.segment)
	case "writer_restarted":
		pid := ""
		if e.pid != 0 {
			pid = fmt.Sprintf(", pid %d", e.pid)
		}
		return fmt.Sprintf("writer restarted: segment %s was re-created (new incarnation %016x%s); "+
			"re-attached at its oldest entry, sequence numbers restart", e.segment, e.incarnation, pid)
	case "writer_gone":
		detail := ""
		if e.detail != "" {
			detail = "; " + e.detail
		}
		return fmt.Sprintf("writer gone: process %d of segment %s no longer exists (it did not close "+
			"the segment: crashed or killed)%s", e.pid, e.segment, detail)
	case "writer_closed":
		return fmt.Sprintf("writer closed: process %d shut segment %s down cleanly", e.pid, e.segment)
	case "corrupt":
		count := ""
		if e.count > 1 {
			count = fmt.Sprintf(" (%d corrupt reads)", e.count)
		}
		return fmt.Sprintf("corrupt data skipped in segment %s: %s%s", e.segment, e.detail, count)
	}
	detail := ""
	if e.detail != "" {
		detail = "; " + e.detail
	}
	return fmt.Sprintf("segment %s was truncated: another process shrank it under the reader; "+
		"the entries read so far stand%s", e.segment, detail)
}

func (e *event) json(b []byte) []byte {
	b = append(b, `{"type":"event","event":"`...)
	b = append(b, e.kind...)
	b = append(b, `","segment":`...)
	b = appendJSONString(b, e.segment)
	if e.pid != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendUint(b, e.pid, 10)
	}
	if e.incarnation != 0 {
		b = append(b, fmt.Sprintf(`,"incarnation":"%016x"`, e.incarnation)...)
	}
	if e.count != 0 {
		b = append(b, `,"count":`...)
		b = strconv.AppendUint(b, e.count, 10)
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.message())
	return append(b, "}\n"...)
}

// text: the event's line on stderr in text mode.
func (e *event) text(color bool) string {
	line := "=== " + escapeLine(e.message()) + " ==="
	if color {
		line = "\x1b[1;36m" + line + reset
	}
	return line + "\n"
}

// appendJSONFieldValue writes numbers and bools bare (the decoder checked that their text is
// JSON) and everything else, the non-finite floats included, as a JSON string, as the C++ tail.
func appendJSONFieldValue(b []byte, f ouroboros.Field) []byte {
	switch f.Type {
	case ouroboros.FieldI64, ouroboros.FieldU64, ouroboros.FieldBool:
		return append(b, f.Value...)
	case ouroboros.FieldF64:
		if !strings.ContainsAny(f.Value, "in") {
			return append(b, f.Value...)
		}
	}
	return appendJSONString(b, f.Value)
}
