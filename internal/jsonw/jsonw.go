// Package jsonw writes JSON strings into byte slices without reflection:
// the one string encoder of log's JSON lines, zipkintrace's Zipkin v2
// batches and redisevent's record headers. It writes what encoding/json
// writes for a string (invalid UTF-8 as U+FFFD; control characters,
// U+2028 and U+2029 escaped) except its HTML escaping: <, > and & stay
// as they are.
package jsonw

import "unicode/utf8"

// plain marks the bytes that go into a JSON string as they are: ASCII
// from the space up, except '"' and '\\'.
var plain = func() (p [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\'
	}
	return p
}()

const hexDigits = "0123456789abcdef"

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether the eight bytes packed in x are all ASCII that a
// JSON string holds as is: none below 0x20, none ≥ 0x80, no '"' or '\\'.
func plain8(x uint64) bool {
	below := (x - ones*0x20) &^ x       // high bit set where a byte < 0x20 (or ≥ 0x80)
	quote := x ^ (ones * '"')           // zero byte where '"'
	slash := x ^ (ones * '\\')          // zero byte where '\\'
	hasQuote := (quote - ones) &^ quote // high bit set where zero
	hasSlash := (slash - ones) &^ slash
	return (below|hasQuote|hasSlash|x)&highs == 0
}

// AppendString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD, so that every line is valid JSON whatever the caller logged.
func AppendString(b []byte, s string) []byte {
	i := 0
	// Skip eight plain bytes at a time: the usual key or value has nothing
	// to escape.
	for i+8 <= len(s) && plain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
		uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
		i += 8
	}
	for i < len(s) && plain[s[i]] {
		i++
	}
	b = append(b, '"')
	if i < len(s) {
		b = appendEscaped(b, s, i)
	} else {
		b = append(b, s...)
	}
	return append(b, '"')
}

// appendEscaped appends s, whose bytes before i are plain, escaping the
// rest as JSON requires.
func appendEscaped(b []byte, s string, i int) []byte {
	start := 0
	for i < len(s) {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // they end a line in JavaScript
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
