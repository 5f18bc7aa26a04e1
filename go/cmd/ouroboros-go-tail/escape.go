package main

import "unicode/utf8"

// Text that came from a segment (names, tags, messages, field keys and values) must not drive
// the terminal (docs/tools.md, "Control characters"): every C0 control except TAB and LF, DEL,
// the C1 controls U+0080..U+009F and every byte that does not start a valid UTF-8 sequence are
// printed as \xNN (two lower-case hex digits of the code point or byte). In a message LF
// continues on a line indented by four spaces and TAB stays; in one-line text (names, tags,
// field keys and values, event lines, errors) LF and TAB are escaped too.

const hexDigits = "0123456789abcdef"

func appendHexEscape(b []byte, v byte) []byte {
	return append(b, '\\', 'x', hexDigits[v>>4], hexDigits[v&0xF])
}

// appendEscaped appends s for a terminal; multiline: a message (LF starts an indented
// continuation line, TAB stays), else one line.
func appendEscaped(b []byte, s string, multiline bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7F {
			b = append(b, c)
			i++
			continue
		}
		if multiline && c == '\n' {
			b = append(b, "\n    "...)
			i++
			continue
		}
		if multiline && c == '\t' {
			b = append(b, c)
			i++
			continue
		}
		if c < 0x80 {
			b = appendHexEscape(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b = appendHexEscape(b, c)
		case r <= 0x9F:
			b = appendHexEscape(b, byte(r))
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// escapeLine: s for one line (an error, a warning or an event text that may carry a segment name).
func escapeLine(s string) string { return string(appendEscaped(nil, s, false)) }

// appendFieldValue: values that are empty or hold a space, TAB, LF, '"' or '=' are quoted so
// key=value pairs stay parseable; inside the quotes '"' and '\' are backslash-escaped and LF is
// \n, the rest is escaped as one line (the CLI's append_field_value).
func appendFieldValue(b []byte, v string) []byte {
	quote := v == ""
	for i := 0; i < len(v) && !quote; i++ {
		switch v[i] {
		case ' ', '\t', '\n', '"', '=':
			quote = true
		}
	}
	if !quote {
		return appendEscaped(b, v, false)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(v); i++ {
		var esc string
		switch v[i] {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		default:
			continue
		}
		b = appendEscaped(b, v[start:i], false)
		b = append(b, esc...)
		start = i + 1
	}
	b = appendEscaped(b, v[start:], false)
	return append(b, '"')
}

// appendJSONString appends s as a JSON string: '"', '\\', \n, \r, \t by name, the other C0
// controls, DEL and the C1 controls as \u00NN, bytes that are not valid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7F && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if c < 0x80 {
			switch c {
			case '"':
				b = append(b, `\"`...)
			case '\\':
				b = append(b, `\\`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b = append(b, "\uFFFD"...)
		case r <= 0x9F:
			b = append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
