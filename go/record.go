package ouroboros

import (
	"errors"
	"unicode/utf8"
)

// Level of a log record.
type Level uint8

const (
	Trace Level = iota
	Debug
	Info
	Warn
	Error
	Critical
)

func (l Level) String() string {
	switch l {
	case Trace:
		return "trace"
	case Debug:
		return "debug"
	case Info:
		return "info"
	case Warn:
		return "warn"
	case Error:
		return "error"
	case Critical:
		return "critical"
	}
	return "?"
}

const (
	recordMarker    = 0x9E
	recordVersion   = 1
	recordFixedSize = 18
	FlagTruncated   = 1 // the writer cut the message
	FlagTicks       = 2 // Timestamp is in writer ticks (see Clock)
)

// Decode errors: the same reasons as the C++ decoder (to_string(decode_status)).
var (
	ErrNotARecord  = errors.New("not a record")
	ErrBadVersion  = errors.New("unknown record version")
	ErrTruncated   = errors.New("record truncated")
	ErrBadLevel    = errors.New("invalid level")
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
)

// Field is one key=value pair of a record.
type Field struct {
	Key   string
	Value string
}

// Record is a decoded log record (docs/format.md section 11).
type Record struct {
	Level     Level
	Flags     uint8
	Thread    uint32
	Timestamp uint64 // unix ns, or writer ticks when Flags&FlagTicks
	Tag       string
	Message   string
	Fields    []Field
}

// Truncated reports whether the writer cut the message.
func (r *Record) Truncated() bool { return r.Flags&FlagTruncated != 0 }

// Ticks reports whether Timestamp is in writer ticks.
func (r *Record) Ticks() bool { return r.Flags&FlagTicks != 0 }

// DecodeRecord decodes a record payload exactly as core/src/record.cpp does (same checks, same
// order). It returns ErrNotARecord for payloads without the marker. It never panics.
func DecodeRecord(p []byte) (Record, error) {
	n := len(p)
	if n == 0 || p[0] != recordMarker {
		return Record{}, ErrNotARecord
	}
	if n < 2 {
		return Record{}, ErrTruncated
	}
	if p[1] != recordVersion {
		return Record{}, ErrBadVersion
	}
	if n < recordFixedSize {
		return Record{}, ErrTruncated
	}
	if p[2] >= 6 {
		return Record{}, ErrBadLevel
	}
	r := Record{
		Level:  Level(p[2]),
		Flags:  p[3],
		Thread: uint32(p[4]) | uint32(p[5])<<8 | uint32(p[6])<<16 | uint32(p[7])<<24,
	}
	for i := 7; i >= 0; i-- {
		r.Timestamp = r.Timestamp<<8 | uint64(p[8+i])
	}
	tagSize := int(p[16])
	count := int(p[17])
	at := recordFixedSize
	if n-at < tagSize {
		return Record{}, ErrTruncated
	}
	tag := p[at : at+tagSize]
	at += tagSize
	if count > 0 {
		r.Fields = make([]Field, 0, count)
	}
	for i := 0; i < count; i++ {
		if n-at < 1 {
			return Record{}, ErrTruncated
		}
		keySize := int(p[at])
		if n-at-1 < keySize+2 {
			return Record{}, ErrTruncated
		}
		valueSize := int(p[at+1+keySize]) | int(p[at+2+keySize])<<8
		if n-at-3-keySize < valueSize {
			return Record{}, ErrTruncated
		}
		key := p[at+1 : at+1+keySize]
		value := p[at+3+keySize : at+3+keySize+valueSize]
		if !utf8.Valid(key) || !utf8.Valid(value) {
			return Record{}, ErrInvalidUTF8
		}
		r.Fields = append(r.Fields, Field{string(key), string(value)})
		at += 3 + keySize + valueSize
	}
	message := p[at:]
	if !utf8.Valid(tag) || !utf8.Valid(message) {
		return Record{}, ErrInvalidUTF8
	}
	r.Tag = string(tag)
	r.Message = string(message)
	return r, nil
}
