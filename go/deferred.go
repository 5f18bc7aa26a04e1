package ouroboros

// Formatting deferred records (record version 2, docs/format.md section 11.5) exactly as the C++
// call site would have formatted them (core/include/ouroboros/format.hpp, core/src/format.cpp):
// the same grammar and checks for format strings, the same number layout, and a char argument
// that is not UTF-8 becomes '?' as the writer would have replaced it.

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors of deferred records: the C++ reasons (to_string(decode_status)).
var (
	ErrUnknownFormat    = errors.New("format id not in the dictionary")
	ErrBadFormat        = errors.New("format string does not parse")
	ErrBadArguments     = errors.New("arguments truncated or of an unknown type")
	ErrArgumentMismatch = errors.New("arguments do not match the format string")
)

const (
	argI64     = 1
	argU64     = 2
	argF64     = 3
	argF32     = 4
	argBool    = 5
	argChar    = 6
	argString  = 7
	argPointer = 8

	maxDeferredArgs   = 256
	maxDeferredPieces = 2*maxDeferredArgs + 8
)

type argKind int

const (
	kindSigned argKind = iota
	kindUnsigned
	kindBool
	kindChar
	kindFloat
	kindString
	kindPointer
)

type fmtSpec struct {
	fill      byte
	align     byte
	sign      byte
	alternate bool
	zeroPad   bool
	typ       byte
	width     int
	precision int
}

func (s *fmtSpec) empty() bool {
	return s.align == 0 && s.sign == 0 && !s.alternate && !s.zeroPad && s.typ == 0 &&
		s.width == 0 && s.precision < 0
}

type fmtPiece struct {
	literal string
	arg     int // -1: none
	spec    fmtSpec
}

// DeferredFormat is a parsed format string (immutable; safe to share).
type DeferredFormat struct {
	pieces []fmtPiece
	err    string // the parser's reason when the text does not parse
}

// ParseDeferredFormat parses a format string from a segment's dictionary.
func ParseDeferredFormat(text []byte) *DeferredFormat {
	f := &DeferredFormat{}
	if msg := parseFormat(text, f); msg != "" {
		f.pieces = nil
		f.err = msg
	}
	return f
}

func specError(s *fmtSpec, kind argKind) string {
	t := s.typ
	intType := t == 0 || t == 'd' || t == 'x' || t == 'X' || t == 'b' || t == 'B' || t == 'o' || t == 'c'
	switch kind {
	case kindSigned, kindUnsigned:
		if !intType {
			return "invalid presentation type for an integer"
		}
		if s.precision >= 0 {
			return "precision is not allowed for integers"
		}
	case kindBool, kindChar:
		if !intType && t != 's' {
			return "invalid presentation type for bool/char"
		}
		if s.precision >= 0 {
			return "precision is not allowed for bool/char"
		}
		if t == 0 || t == 's' || (kind == kindChar && t == 'c') {
			if s.sign != 0 || s.alternate || s.zeroPad {
				return "sign, '#' and '0' need a numeric type"
			}
		}
	case kindFloat:
		if t != 0 && t != 'f' && t != 'F' && t != 'e' && t != 'E' && t != 'g' && t != 'G' && t != 'a' && t != 'A' {
			return "invalid presentation type for a floating-point value"
		}
		if s.precision > 150 {
			return "precision above 150 is not supported"
		}
	case kindString:
		if t != 0 && t != 's' {
			return "invalid presentation type for a string"
		}
		if s.sign != 0 || s.alternate || s.zeroPad {
			return "sign, '#' and '0' need a numeric type"
		}
	case kindPointer:
		if t != 0 && t != 'p' {
			return "invalid presentation type for a pointer"
		}
		if s.sign != 0 || s.alternate || s.precision >= 0 {
			return "invalid spec for a pointer"
		}
	}
	return ""
}

// parseFormat is format.hpp's parse_format with every argument of unknown type.
func parseFormat(text []byte, f *DeferredFormat) string {
	if len(text) > 0xFFFF {
		return "format string longer than 65535 bytes"
	}
	if !utf8.Valid(text) {
		return "format string is not valid UTF-8"
	}
	n := len(text)
	const tooMany = "too many replacement fields or escaped braces"
	add := func(begin, end int) bool {
		if len(f.pieces) == maxDeferredPieces {
			return false
		}
		f.pieces = append(f.pieces, fmtPiece{literal: string(text[begin:end]), arg: -1})
		return true
	}
	number := func(i *int, limit int) (int, bool) {
		value := 0
		for *i < n && text[*i] >= '0' && text[*i] <= '9' {
			value = value*10 + int(text[*i]-'0')
			if value > limit {
				return 0, false
			}
			*i++
		}
		return value, true
	}
	isAlign := func(c byte) bool { return c == '<' || c == '>' || c == '^' }
	literalStart, nextAuto, i := 0, 0, 0
	manual, automatic, any := false, false, false
	for i < n {
		c := text[i]
		if (c == '{' || c == '}') && i+1 < n && text[i+1] == c { // "{{" or "}}": one brace
			if !add(literalStart, i+1) {
				return tooMany
			}
			any = true
			i += 2
			literalStart = i
			continue
		}
		if c == '}' {
			return "unmatched '}' in format string"
		}
		if c != '{' {
			i++
			continue
		}
		literalEnd := i
		i++
		index := 0
		if i < n && text[i] >= '0' && text[i] <= '9' {
			v, ok := number(&i, 255)
			if !ok {
				return "number in format spec too large"
			}
			index = v
			manual = true
		} else {
			index = nextAuto
			nextAuto++
			automatic = true
		}
		if manual && automatic {
			return "cannot mix automatic and manual argument indexing"
		}
		if index >= maxDeferredArgs {
			return "argument index out of range (more fields than arguments?)"
		}
		s := fmtSpec{fill: ' ', precision: -1}
		if i < n && text[i] == ':' {
			i++
			if i+1 < n && isAlign(text[i+1]) && text[i] != '{' && text[i] != '}' {
				if text[i] >= 0x80 {
					return "fill must be an ASCII character"
				}
				s.fill = text[i]
				s.align = text[i+1]
				i += 2
			} else if i < n && isAlign(text[i]) {
				s.align = text[i]
				i++
			}
			if i < n && (text[i] == '+' || text[i] == '-' || text[i] == ' ') {
				if text[i] != '-' {
					s.sign = text[i]
				}
				i++
			}
			if i < n && text[i] == '#' {
				s.alternate = true
				i++
			}
			if i < n && text[i] == '0' {
				s.zeroPad = true
				i++
			}
			w, ok := number(&i, 4096)
			if !ok {
				return "number in format spec too large"
			}
			s.width = w
			if i < n && text[i] == '.' {
				i++
				if i >= n || text[i] < '0' || text[i] > '9' {
					return "missing precision after '.'"
				}
				p, ok := number(&i, 4096)
				if !ok {
					return "number in format spec too large"
				}
				s.precision = p
			}
			if i < n && text[i] != '}' {
				s.typ = text[i]
				i++
			}
		}
		if i >= n || text[i] != '}' {
			return "invalid format spec or missing '}'"
		}
		i++
		if !add(literalStart, literalEnd) {
			return tooMany
		}
		any = true
		f.pieces[len(f.pieces)-1].arg = index
		f.pieces[len(f.pieces)-1].spec = s
		literalStart = i
	}
	if literalStart < n || !any {
		if !add(literalStart, n) {
			return tooMany
		}
	}
	return ""
}

type deferredArg struct {
	typ  byte
	bits uint64
	text []byte
}

func kindOfArg(t byte) argKind {
	switch t {
	case argI64:
		return kindSigned
	case argU64:
		return kindUnsigned
	case argF64, argF32:
		return kindFloat
	case argBool:
		return kindBool
	case argChar:
		return kindChar
	case argString:
		return kindString
	}
	return kindPointer
}

func splitArgs(b []byte) ([]deferredArg, error) {
	var out []deferredArg
	at, n := 0, len(b)
	for at < n {
		if len(out) == maxDeferredArgs {
			return nil, ErrBadArguments
		}
		a := deferredArg{typ: b[at]}
		at++
		width := 0
		switch a.typ {
		case argI64, argU64, argF64, argPointer:
			width = 8
		case argF32, argString:
			width = 4
		case argBool, argChar:
			width = 1
		default:
			return nil, ErrBadArguments
		}
		if n-at < width {
			return nil, ErrBadArguments
		}
		for k := width - 1; k >= 0; k-- {
			a.bits = a.bits<<8 | uint64(b[at+k])
		}
		at += width
		if a.typ == argBool && a.bits > 1 {
			return nil, ErrBadArguments
		}
		if a.typ == argString {
			if uint64(n-at) < a.bits {
				return nil, ErrBadArguments
			}
			a.text = b[at : at+int(a.bits)]
			at += int(a.bits)
			if !validUTF8(a.text) {
				return nil, ErrInvalidUTF8
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// validUTF8 is the strict check of docs/format.md §11.3 (utf8.Valid is the same rule set).
func validUTF8(b []byte) bool { return utf8.Valid(b) }

func codePoints(b []byte) int {
	count := 0
	for _, c := range b {
		if c&0xC0 != 0x80 {
			count++
		}
	}
	return count
}

func pad(out []byte, s *fmtSpec, used int, defaultAlign byte, prefix, body []byte) []byte {
	if used >= s.width {
		return append(append(out, prefix...), body...)
	}
	padding := s.width - used
	if s.zeroPad && s.align == 0 {
		out = append(out, prefix...)
		for k := 0; k < padding; k++ {
			out = append(out, '0')
		}
		return append(out, body...)
	}
	align := s.align
	if align == 0 {
		align = defaultAlign
	}
	left := 0
	if align == '>' {
		left = padding
	} else if align == '^' {
		left = padding / 2
	}
	for k := 0; k < left; k++ {
		out = append(out, s.fill)
	}
	out = append(append(out, prefix...), body...)
	for k := 0; k < padding-left; k++ {
		out = append(out, s.fill)
	}
	return out
}

func writeInteger(out []byte, s *fmtSpec, magnitude uint64, negative bool) []byte {
	var prefix []byte
	if negative {
		prefix = append(prefix, '-')
	} else if s.sign != 0 {
		prefix = append(prefix, s.sign)
	}
	base, upper := 10, false
	switch s.typ {
	case 'x':
		base = 16
	case 'X':
		base, upper = 16, true
	case 'b':
		base = 2
	case 'B':
		base, upper = 2, true
	case 'o':
		base = 8
	}
	if s.alternate && base != 10 {
		prefix = append(prefix, '0')
		if base == 16 {
			prefix = append(prefix, map[bool]byte{true: 'X', false: 'x'}[upper])
		}
		if base == 2 {
			prefix = append(prefix, map[bool]byte{true: 'B', false: 'b'}[upper])
		}
	}
	digits := strconv.FormatUint(magnitude, base)
	if upper {
		digits = strings.ToUpper(digits)
	}
	return pad(out, s, len(prefix)+len(digits), '>', prefix, []byte(digits))
}

// shortest is format.cpp's write_shortest: the shortest round-trip digits (of a float32 when
// single) in fmt's layout.
func shortest(v float64, single bool) string {
	if math.IsInf(v, 0) {
		if v < 0 {
			return "-inf"
		}
		return "inf"
	}
	if math.IsNaN(v) {
		if math.Signbit(v) {
			return "-nan"
		}
		return "nan"
	}
	bits := 64
	if single {
		bits = 32
	}
	sci := strconv.FormatFloat(v, 'e', -1, bits)
	sign := ""
	if sci[0] == '-' {
		sign, sci = "-", sci[1:]
	}
	e := strings.IndexByte(sci, 'e')
	exp, _ := strconv.Atoi(sci[e+1:])
	digits := strings.Replace(sci[:e], ".", "", 1)
	if exp < -4 || exp >= 16 {
		mantissa := digits[:1]
		if len(digits) > 1 {
			mantissa += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		ed := strconv.Itoa(exp)
		if len(ed) < 2 {
			ed = "0" + ed
		}
		return sign + mantissa + "e" + es + ed
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if exp+1 >= len(digits) {
		return sign + digits + strings.Repeat("0", exp+1-len(digits))
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

// hexFloat is std::to_chars(chars_format::hex): no "0x", shortest or `precision` hex digits
// (rounded half to even, the leading digit included), exponent without padding.
func hexFloat(v float64, precision int) string {
	b := math.Float64bits(v)
	sign := ""
	if b>>63 != 0 {
		sign = "-"
	}
	biased := int(b>>52) & 0x7FF
	fraction := b & (1<<52 - 1)
	if biased == 0x7FF {
		if fraction != 0 {
			return sign + "nan"
		}
		return sign + "inf"
	}
	lead, exp := uint64(1), biased-1023
	if biased == 0 {
		lead, exp = 0, -1022
		if fraction == 0 {
			exp = 0
		}
	}
	var digits string
	if precision < 0 {
		digits = strings.TrimRight(leftPadHex(fraction, 13), "0")
	} else if precision < 13 {
		drop := uint(4 * (13 - precision))
		full := lead<<52 | fraction
		kept := full >> drop
		rest := full & (1<<drop - 1)
		half := uint64(1) << (drop - 1)
		if rest > half || (rest == half && kept&1 == 1) {
			kept++
		}
		lead = kept >> uint(4*precision)
		kept &= 1<<uint(4*precision) - 1
		if precision > 0 {
			digits = leftPadHex(kept, precision)
		}
	} else {
		digits = leftPadHex(fraction, 13) + strings.Repeat("0", precision-13)
	}
	body := strconv.FormatUint(lead, 10)
	if digits != "" {
		body += "." + digits
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return sign + body + "p" + es + strconv.Itoa(exp)
}

func leftPadHex(v uint64, width int) string {
	s := strconv.FormatUint(v, 16)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// cGeneral is printf's %.*g (std::to_chars chars_format::general with a precision).
func cGeneral(v float64, p int) string {
	if p == 0 {
		p = 1
	}
	sci := strconv.FormatFloat(v, 'e', p-1, 64)
	e := strings.IndexByte(sci, 'e')
	exp, _ := strconv.Atoi(sci[e+1:])
	var out string
	if exp < -4 || exp >= p {
		mantissa := sci[:e]
		if strings.IndexByte(mantissa, '.') >= 0 {
			mantissa = strings.TrimRight(strings.TrimRight(mantissa, "0"), ".")
		}
		out = mantissa + sci[e:]
	} else {
		out = strconv.FormatFloat(v, 'f', p-1-exp, 64)
		if strings.IndexByte(out, '.') >= 0 {
			out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
		}
	}
	return out
}

func writeFloating(out []byte, s *fmtSpec, v float64, single bool) []byte {
	p := s.precision
	finite := !math.IsInf(v, 0) && !math.IsNaN(v)
	var text string
	prec := p
	if prec < 0 {
		prec = 6
	}
	switch {
	case !finite && s.typ != 'a' && s.typ != 'A':
		text = shortest(v, false)
	case s.typ == 'f' || s.typ == 'F':
		text = strconv.FormatFloat(v, 'f', prec, 64)
	case s.typ == 'e' || s.typ == 'E':
		text = strconv.FormatFloat(v, 'e', prec, 64)
	case s.typ == 'g' || s.typ == 'G':
		text = cGeneral(v, prec)
	case s.typ == 'a' || s.typ == 'A':
		text = hexFloat(v, p)
	case p < 0:
		text = shortest(v, single)
	default:
		text = cGeneral(v, p)
	}
	if s.typ == 'F' || s.typ == 'E' || s.typ == 'G' || s.typ == 'A' {
		text = strings.ToUpper(text)
	}
	var prefix []byte
	if strings.HasPrefix(text, "-") {
		prefix, text = []byte{'-'}, text[1:]
	} else if s.sign != 0 {
		prefix = []byte{s.sign}
	}
	adjusted := *s
	if !finite {
		adjusted.zeroPad = false
	}
	return pad(out, &adjusted, len(prefix)+len(text), '>', prefix, []byte(text))
}

func writeString(out []byte, s *fmtSpec, b []byte) []byte {
	if s.precision >= 0 {
		seen, end := 0, len(b)
		for i, c := range b {
			if c&0xC0 != 0x80 {
				if seen == s.precision {
					end = i
					break
				}
				seen++
			}
		}
		b = b[:end]
	}
	return pad(out, s, codePoints(b), '<', nil, b)
}

// replaceInvalidUTF8 is record.cpp's replace_invalid_utf8.
func replaceInvalidUTF8(b []byte) {
	i, n := 0, len(b)
	for i < n {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		length := 0
		switch {
		case c&0xE0 == 0xC0:
			length = 2
		case c&0xF0 == 0xE0:
			length = 3
		case c&0xF8 == 0xF0:
			length = 4
		}
		if length != 0 && i+length <= n && utf8.Valid(b[i:i+length]) {
			i += length
			continue
		}
		b[i] = '?'
		i++
	}
}

// RenderDeferred formats encoded arguments with a parsed format: the message, or why the record
// is malformed (ErrBadFormat, ErrBadArguments, ErrArgumentMismatch, ErrInvalidUTF8).
func RenderDeferred(f *DeferredFormat, args []byte) (string, error) {
	if f.err != "" {
		return "", ErrBadFormat
	}
	split, err := splitArgs(args)
	if err != nil {
		return "", err
	}
	for i := range f.pieces {
		p := &f.pieces[i]
		if p.arg < 0 {
			continue
		}
		if p.arg >= len(split) || specError(&p.spec, kindOfArg(split[p.arg].typ)) != "" {
			return "", ErrArgumentMismatch
		}
	}
	out := make([]byte, 0, 128)
	unchecked := false
	for i := range f.pieces {
		p := &f.pieces[i]
		out = append(out, p.literal...)
		if p.arg < 0 {
			continue
		}
		a := split[p.arg]
		s := &p.spec
		plain := s.empty()
		switch a.typ {
		case argI64, argU64:
			negative := a.typ == argI64 && int64(a.bits) < 0
			magnitude := a.bits
			if negative {
				magnitude = -a.bits
			}
			switch {
			case plain:
				if a.typ == argI64 {
					out = strconv.AppendInt(out, int64(a.bits), 10)
				} else {
					out = strconv.AppendUint(out, a.bits, 10)
				}
			case s.typ == 'c':
				c := byte(a.bits)
				unchecked = unchecked || c >= 0x80
				out = pad(out, s, codePoints([]byte{c}), '<', nil, []byte{c})
			default:
				out = writeInteger(out, s, magnitude, negative)
			}
		case argBool:
			if s.typ == 0 || s.typ == 's' {
				word := "false"
				if a.bits != 0 {
					word = "true"
				}
				out = pad(out, s, len(word), '<', nil, []byte(word))
			} else {
				out = writeInteger(out, s, a.bits, false)
			}
		case argChar:
			c := byte(a.bits)
			if s.typ == 0 || s.typ == 'c' || s.typ == 's' {
				unchecked = unchecked || c >= 0x80
				out = pad(out, s, codePoints([]byte{c}), '<', nil, []byte{c})
			} else {
				out = writeInteger(out, s, uint64(c), false)
			}
		case argF64:
			out = writeFloating(out, s, math.Float64frombits(a.bits), false)
		case argF32:
			out = writeFloating(out, s, float64(math.Float32frombits(uint32(a.bits))), true)
		case argString:
			if plain {
				out = append(out, a.text...)
			} else {
				out = writeString(out, s, a.text)
			}
		default:
			digits := strconv.FormatUint(a.bits, 16)
			out = pad(out, s, 2+len(digits), '>', []byte("0x"), []byte(digits))
		}
	}
	if unchecked {
		replaceInvalidUTF8(out)
	}
	return string(out), nil
}

const (
	deferredVersion       = 2
	deferredFixedSize     = 22
	dictionaryKindFormat  = 1
	dictionaryEntryHeader = 4
	extDictOffsetOffset   = 96
	extDictCapacityOffset = 100
	extDictUsedOffset     = 104
)

// readDictionaryEntry reads entry `id` of the dictionary of the block at `a` (docs/format.md
// §9.2 and §9.4, C++ read_dictionary_entry): its kind and a copy of its bytes.
func readDictionaryEntry(b []byte, a int, id uint32) (byte, []byte, bool) {
	size := uint64(load32(b, a+8))
	dictAt := uint64(load32(b, a+extDictOffsetOffset))
	capacity := uint64(load32(b, a+extDictCapacityOffset))
	at := uint64(a)
	if dictAt%4 != 0 || dictAt < at+extMinSize || dictAt > at+size || capacity > at+size-dictAt {
		return 0, nil, false
	}
	used := uint64(load32(b, a+extDictUsedOffset))
	if used > capacity || id%4 != 0 || uint64(id)+dictionaryEntryHeader > used {
		return 0, nil, false
	}
	head := load32(b, int(dictAt)+int(id))
	length := uint64(head & 0xFFFF)
	if uint64(id)+dictionaryEntryHeader+length > used {
		return 0, nil, false
	}
	start := int(dictAt) + int(id) + dictionaryEntryHeader
	return byte(head >> 16), append([]byte(nil), b[start:start+int(length)]...), true
}

// DecodeRecordWith decodes as DecodeRecord does and, in addition, deferred records (version 2,
// docs/format.md §11.5), whose format strings `lookup` returns by dictionary id (nil when there
// is no such format string). Checks in the C++ order: header, tag and fields as version 1, then
// the format id, the format string, the arguments.
func DecodeRecordWith(p []byte, lookup func(id uint32) *DeferredFormat) (Record, error) {
	if len(p) < 2 || p[0] != recordMarker || p[1] != deferredVersion {
		return DecodeRecord(p)
	}
	if len(p) < deferredFixedSize {
		return Record{}, ErrTruncated
	}
	// The version 1 decoder on the same bytes without the format id: the layout after it is
	// identical, and the message it sees is the encoded arguments.
	v1 := make([]byte, 0, len(p)-4)
	v1 = append(v1, p[:18]...)
	v1 = append(v1, p[deferredFixedSize:]...)
	v1[1] = recordVersion
	n := len(v1)
	tagSize := int(v1[16])
	at := recordFixedSize + tagSize
	if v1[2] < 6 && n >= at {
		// Find where the fields end, so the arguments are not taken for a UTF-8 message.
		ok := true
		for i := 0; i < int(v1[17]) && ok; i++ {
			if n-at < 1 {
				ok = false
				break
			}
			keySize := int(v1[at])
			if n-at-1 < keySize+2 {
				ok = false
				break
			}
			valueSize := int(v1[at+1+keySize]) | int(v1[at+2+keySize])<<8
			if n-at-3-keySize < valueSize {
				ok = false
				break
			}
			at += 3 + keySize + valueSize
		}
		if ok {
			args := v1[at:]
			rec, err := DecodeRecord(v1[:at])
			if err != nil {
				return Record{}, err
			}
			id := uint32(p[18]) | uint32(p[19])<<8 | uint32(p[20])<<16 | uint32(p[21])<<24
			var f *DeferredFormat
			if lookup != nil {
				f = lookup(id)
			}
			if f == nil {
				return Record{}, ErrUnknownFormat
			}
			msg, err := RenderDeferred(f, args)
			if err != nil {
				return Record{}, err
			}
			rec.Message = msg
			return rec, nil
		}
	}
	return DecodeRecord(v1) // reports the header, tag or field error as version 1 would
}

// formatLookup returns the reader's cached lookup of format strings in its segment's dictionary.
func (r *Reader) formatLookup() func(uint32) *DeferredFormat {
	return func(id uint32) *DeferredFormat {
		if f, ok := r.formats[id]; ok {
			return f
		}
		if !r.hasExt {
			return nil
		}
		kind, text, ok := readDictionaryEntry(r.m.b, r.extAt, id)
		if !ok || kind != dictionaryKindFormat {
			return nil // perhaps not yet published: looked up again next time
		}
		if r.formats == nil {
			r.formats = make(map[uint32]*DeferredFormat)
		}
		f := ParseDeferredFormat(text)
		r.formats[id] = f
		return f
	}
}
