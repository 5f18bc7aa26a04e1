package main

import "unicode/utf8"

// Text that came from a segment (names, tags, messages, field keys and values) must not drive
// the terminal: every C0 control except TAB and LF, DEL, the C1 controls U+0080..U+009F and every
// byte that is not valid UTF-8 is printed as \xNN (two lower-case hex digits of the code point or
// byte). LF continues a message on an indented line; anywhere else it is \x0a.

const hexDigits = "0123456789abcdef"

func appendHexEscape(b []byte, v byte) []byte {
	return append(b, '\\', 'x', hexDigits[v>>4], hexDigits[v&0xF])
}

// appendEscaped appends s for a terminal; multiline: LF starts an indented continuation line.
func appendEscaped(b []byte, s string, multiline bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7F {
			b = append(b, c)
			i++
			continue
		}
		if c == '\t' {
			b = append(b, c)
			i++
			continue
		}
		if c == '\n' && multiline {
			b = append(b, "\n    "...)
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

// escapeLine: s for one line of stderr (an error or event text that may carry a segment name).
func escapeLine(s string) string { return string(appendEscaped(nil, s, false)) }

// appendFieldValue: values with spaces, tabs, quotes, '=' or LF (or empty) are quoted so
// key=value pairs stay parseable; inside the quotes '"' and '\' are backslash-escaped and LF is \n.
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
		}
		switch c {
		case '"', '\\', '\n', '\r', '\t':
			i++
			continue
		}
		if c < 0x80 {
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
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

func validUTF8(p []byte) bool { return utf8.Valid(p) }
