package ouroboros

import (
	"errors"
	"math"
	"strconv"
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
	typedVersion    = 3 // version 1 with a type byte after each field's key
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
	ErrBadField    = errors.New("field of an unknown type or not of its type")
)

// FieldType says how to read a field's text (docs/format.md, typed fields).
type FieldType uint8

// Field types; version 1 fields are all FieldString.
const (
	FieldI64    FieldType = 1
	FieldU64    FieldType = 2
	FieldF64    FieldType = 3
	FieldBool   FieldType = 5
	FieldString FieldType = 7
)

// Field is one key=value pair of a record. Value is the text every reader shows; Type says
// which Go value it stands for (see Typed).
type Field struct {
	Key   string
	Value string
	Type  FieldType
}

// Typed returns the field's value as an int64, uint64, float64, bool or string. The decoder has
// checked the text, so it always parses; "inf", "-inf", "nan" and "-nan" are the non-finite
// floats.
func (f Field) Typed() interface{} {
	switch f.Type {
	case FieldI64:
		v, _ := strconv.ParseInt(f.Value, 10, 64)
		return v
	case FieldU64:
		v, _ := strconv.ParseUint(f.Value, 10, 64)
		return v
	case FieldF64:
		switch f.Value {
		case "nan", "-nan":
			return math.NaN()
		}
		v, _ := strconv.ParseFloat(f.Value, 64)
		return v
	case FieldBool:
		return f.Value == "true"
	}
	return f.Value
}

// fieldValueMatches reports whether text is what a writer writes for the type (the C++
// field_value_matches).
func fieldValueMatches(t FieldType, text []byte) bool {
	switch t {
	case FieldString:
		return true
	case FieldBool:
		return string(text) == "true" || string(text) == "false"
	case FieldU64:
		return decimalAtMost(text, math.MaxUint64)
	case FieldI64:
		if len(text) > 0 && text[0] == '-' {
			return string(text) != "-0" && decimalAtMost(text[1:], 1<<63)
		}
		return decimalAtMost(text, math.MaxInt64)
	case FieldF64:
		switch string(text) {
		case "inf", "-inf", "nan", "-nan":
			return true
		}
		return jsonNumber(text)
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func decimalAtMost(d []byte, limit uint64) bool {
	if len(d) == 0 || len(d) > 20 || (len(d) > 1 && d[0] == '0') {
		return false
	}
	var v uint64
	for _, c := range d {
		if !isDigit(c) {
			return false
		}
		x := uint64(c - '0')
		if v > (limit-x)/10 {
			return false
		}
		v = v*10 + x
	}
	return true
}

// jsonNumber: the RFC 8259 number grammar, which the writer's shortest float text satisfies.
func jsonNumber(s []byte) bool {
	i, n := 0, len(s)
	if i < n && s[i] == '-' {
		i++
	}
	if i >= n {
		return false
	}
	if s[i] == '0' {
		i++
	} else if isDigit(s[i]) {
		for i < n && isDigit(s[i]) {
			i++
		}
	} else {
		return false
	}
	if i < n && s[i] == '.' {
		i++
		if i >= n || !isDigit(s[i]) {
			return false
		}
		for i < n && isDigit(s[i]) {
			i++
		}
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= n || !isDigit(s[i]) {
			return false
		}
		for i < n && isDigit(s[i]) {
			i++
		}
	}
	return i == n
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
	if p[1] != recordVersion && p[1] != typedVersion {
		return Record{}, ErrBadVersion
	}
	typeSize := 0
	if p[1] == typedVersion {
		typeSize = 1
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
		if n-at-1 < keySize+typeSize+2 {
			return Record{}, ErrTruncated
		}
		valueAt := at + 3 + keySize + typeSize
		valueSize := int(p[valueAt-2]) | int(p[valueAt-1])<<8
		if n-valueAt < valueSize {
			return Record{}, ErrTruncated
		}
		t := FieldString
		if typeSize == 1 {
			t = FieldType(p[at+1+keySize])
			switch t {
			case FieldI64, FieldU64, FieldF64, FieldBool, FieldString:
			default:
				return Record{}, ErrBadField
			}
		}
		key := p[at+1 : at+1+keySize]
		value := p[valueAt : valueAt+valueSize]
		if !utf8.Valid(key) || !utf8.Valid(value) {
			return Record{}, ErrInvalidUTF8
		}
		if !fieldValueMatches(t, value) {
			return Record{}, ErrBadField
		}
		r.Fields = append(r.Fields, Field{string(key), string(value), t})
		at = valueAt + valueSize
	}
	message := p[at:]
	if !utf8.Valid(tag) || !utf8.Valid(message) {
		return Record{}, ErrInvalidUTF8
	}
	r.Tag = string(tag)
	r.Message = string(message)
	return r, nil
}
