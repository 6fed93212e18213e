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

// Escapes8 has the high bit set in the bytes of the eight packed in x
// (little-endian) that a JSON string cannot hold as they are: below 0x20,
// '"', '\\', and every byte ≥ 0x80 (UTF-8, which AppendString checks
// rune by rune). Zero means the eight bytes are copied unchanged.
func Escapes8(x uint64) uint64 {
	below := (x - ones*0x20) &^ x       // high bit set where a byte < 0x20 (or ≥ 0x80)
	quote := x ^ (ones * '"')           // zero byte where '"'
	slash := x ^ (ones * '\\')          // zero byte where '\\'
	hasQuote := (quote - ones) &^ quote // high bit set where zero
	hasSlash := (slash - ones) &^ slash
	return (below | hasQuote | hasSlash | x) & highs
}

// Load8 packs s[i:i+8] into a word, little-endian (one load on the
// machines Go compiles for).
func Load8(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// Load4x2 packs the first four and the last four bytes of s, which has
// four to eight bytes, into a word: every byte of s is in it, those in
// the middle of a short s twice.
func Load4x2(s string) uint64 {
	n := len(s)
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[n-4])<<32 | uint64(s[n-3])<<40 | uint64(s[n-2])<<48 | uint64(s[n-1])<<56
}

// Plain reports whether AppendString copies s unchanged between its quotes.
func Plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			return false
		}
	}
	return true
}

// AppendString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD, so that every line is valid JSON whatever the caller logged.
func AppendString(b []byte, s string) []byte {
	n := len(s)
	// Eight bytes at a time, the last word overlapping the one before
	// (and two overlapping halves below eight bytes): the usual key or
	// value has nothing to escape and is copied as it is.
	i := 0
	switch {
	case n >= 8:
		for ; i < n-8 && Escapes8(Load8(s, i)) == 0; i += 8 {
		}
		if i >= n-8 {
			i = n - 8
			if Escapes8(Load8(s, i)) == 0 {
				i = n
			}
		}
	case n >= 4:
		if Escapes8(Load4x2(s)) == 0 {
			i = n
		}
	}
	b = append(b, '"')
	if i < n {
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
