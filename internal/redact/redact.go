// Package redact is the one rule go-os uses to keep secrets out of what
// it prints: log's RedactHandler and config's redacted dump both apply it.
//
//   - Keys: a key holding one of the secret words anywhere, whatever its
//     case (password, AWS_SECRET_ACCESS_KEY, githubToken, X-Api-Key), has
//     its value masked.
//   - Headers: in an http.Header or a gRPC metadata.MD, the values of
//     Authorization, Proxy-Authorization, Cookie and Set-Cookie (and of
//     any key that is secret by the rule above) are masked.
//   - Strings: the password of a URL or DSN (https://user:pass@host,
//     redis://:pass@host, postgres://u:pass@h/db, u:pass@tcp(h)/db) and
//     the token after "Bearer " are masked wherever they appear as a value.
//
// The checks are written for a hot path: a key or a string without a
// secret costs a scan and no allocation.
package redact

import (
	"math/bits"
	"net/url"
	"strings"

	"github.com/microos/go-os/internal/jsonw"
)

// Mask replaces a secret value.
const Mask = "[REDACTED]"

// DefaultWords are the secret words: a key containing one is secret.
var DefaultWords = []string{
	"password", "passwd", "secret", "token", "apikey", "api_key", "api-key",
	"authorization", "cookie", "credential", "private", "session",
}

// Keys matches keys that contain a secret word, whatever their case.
type Keys struct {
	// second[c] has bit b&31 set for every word starting with byte c
	// (lower case) whose second byte is b: most positions of a key are
	// ruled out by one lookup.
	second [256]uint32
	words  [256][]string // lower-case words by first byte
	min    int           // the shortest word's length
}

// NewKeys returns the matcher of DefaultWords and extra.
func NewKeys(extra ...string) *Keys {
	k := &Keys{}
	for _, w := range append(append([]string(nil), DefaultWords...), extra...) {
		w = strings.ToLower(w)
		if len(w) < 2 {
			continue // a one-letter word would make every key a secret
		}
		if k.min == 0 || len(w) < k.min {
			k.min = len(w)
		}
		c := w[0]
		k.words[c] = append(k.words[c], w)
		k.second[c] |= 1 << (w[1] & 31)
		if 'a' <= c && c <= 'z' {
			k.second[c-32] |= 1 << (w[1] & 31)
		}
	}
	return k
}

// Secret reports whether key contains a secret word anywhere.
func (k *Keys) Secret(key string) bool {
	for i := 0; i+k.min <= len(key); i++ {
		c := key[i]
		if k.second[c]&(1<<(key[i+1]&31)) == 0 {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 32
		}
		for _, w := range k.words[c] {
			if len(key)-i >= len(w) && strings.EqualFold(key[i:i+len(w)], w) {
				return true
			}
		}
	}
	return false
}

// sensitiveHeaders are masked whatever the key rule says.
var sensitiveHeaders = []string{"authorization", "proxy-authorization", "cookie", "set-cookie"}

// Header returns h with the values of sensitive keys masked, and the
// strings of the others passed through String; h itself when nothing
// needed masking (it is never modified). It serves http.Header and gRPC's
// metadata.MD alike.
func Header[M ~map[string][]string](h M, keys *Keys) M {
	if !headerNeeds(h, keys) {
		return h
	}
	out := make(M, len(h))
	for name, vals := range h {
		masked := make([]string, len(vals))
		secret := headerSecret(name, keys)
		for i, v := range vals {
			if secret {
				masked[i] = Mask
			} else {
				masked[i] = String(v)
			}
		}
		out[name] = masked
	}
	return out
}

func headerNeeds[M ~map[string][]string](h M, keys *Keys) bool {
	for name, vals := range h {
		if headerSecret(name, keys) {
			return true
		}
		for _, v := range vals {
			if Needs(v) {
				return true
			}
		}
	}
	return false
}

func headerSecret(name string, keys *Keys) bool {
	for _, s := range sensitiveHeaders {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return keys.Secret(name)
}

// Needs reports whether s may hold a secret String masks: a URL or DSN
// with a password, or a bearer token. It is the fast check: one pass over
// s, eight bytes at a time, looking for an '@' or a space that follows
// "bearer" (any case); a space matters only after an 'r', which the same
// pass tests, so a sentence costs no more than a word.
func Needs(s string) bool {
	n := len(s)
	if n < 8 {
		return needsShort(s)
	}
	var prev uint64 // the byte before the word, for the "r " test
	for i := 0; ; i += 8 {
		if i > n-8 {
			i = n - 8 // the last word overlaps the one before: no tail loop
			prev = uint64(s[i-1])
		}
		x := jsonw.Load8(s, i)
		// A space whose previous byte is 'r' or 'R' (0x52|0x20 == 0x72).
		rsp := zeros(x^space) & zeros((x<<8|prev|lower)^r8)
		if zeros(x^at8)|rsp != 0 && needsWord(s, i, x, rsp) {
			return true
		}
		if i == n-8 {
			return false
		}
		prev = x >> 56
	}
}

// Hint8 marks the bytes of the eight packed in x (little-endian, prev the
// byte before them) at which a secret String masks may show: an '@', a
// space after 'r' or 'R'. Zero means none; otherwise Needs tells. It lets
// an encoder that loads the words anyway do Needs's scan in its own pass.
func Hint8(x, prev uint64) uint64 {
	return zeros(x^at8) | zeros(x^space)&zeros((x<<8|prev|lower)^r8)
}

// Hint4x2 is Hint8 for x holding a string of four to seven bytes packed
// as two overlapping halves: any '@' or space.
func Hint4x2(x uint64) uint64 { return zeros(x^at8) | zeros(x^space) }

// needsShort is Needs for fewer than eight bytes: only "bearer " itself
// holds a space after "bearer".
func needsShort(s string) bool {
	switch n := len(s); {
	case n >= 4:
		return zeros(jsonw.Load4x2(s)^at8) != 0 || n == 7 && s[6] == ' ' && strings.EqualFold(s[:6], "bearer")
	case n > 0:
		return s[0] == '@' || s[n/2] == '@' || s[n-1] == '@'
	}
	return false
}

const (
	ones  = 0x0101010101010101
	low7  = 0x7f7f7f7f7f7f7f7f
	lower = 0x2020202020202020
	at8   = '@' * ones
	space = ' ' * ones
	r8    = 'r' * ones
)

// zeros has the high bit set in exactly the bytes of v that are zero.
func zeros(v uint64) uint64 { return ^((v&low7 + low7) | v | low7) }

// needsWord checks the eight bytes x of s starting at i, of which rsp
// marks the spaces after an 'r'.
func needsWord(s string, i int, x, rsp uint64) bool {
	if zeros(x^at8) != 0 {
		return true
	}
	for ; rsp != 0; rsp &= rsp - 1 {
		j := i + bits.TrailingZeros64(rsp)/8
		if j >= 6 && strings.EqualFold(s[j-6:j], "bearer") {
			return true
		}
	}
	return false
}

// String masks the passwords of the URLs and DSNs in s and the bearer
// tokens; s itself when it has none.
func String(s string) string {
	if !Needs(s) {
		return s
	}
	if strings.ContainsAny(s, " \t\n") {
		return bearer(maskWords(s))
	}
	return URL(s)
}

// maskWords applies URL to every space-separated word of s.
func maskWords(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	fields := strings.SplitAfter(s, " ")
	for i, f := range fields {
		trimmed := strings.TrimRight(f, " \t\n")
		fields[i] = URL(trimmed) + f[len(trimmed):]
	}
	return strings.Join(fields, "")
}

// bearer masks the token after every "Bearer " (any case).
func bearer(s string) string {
	lower := strings.ToLower(s)
	var b strings.Builder
	last := 0
	for i := 0; ; {
		j := strings.Index(lower[i:], "bearer ")
		if j < 0 {
			break
		}
		start := i + j + len("bearer ")
		end := start
		for end < len(s) && s[end] != ' ' && s[end] != '\t' && s[end] != '\n' && s[end] != '"' && s[end] != ',' {
			end++
		}
		if end > start {
			b.WriteString(s[last:start])
			b.WriteString(Mask)
			last = end
		}
		i = max(end, start)
		if i >= len(s) {
			break
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// URL masks the password of a URL or DSN such as redis://u:pw@host or
// app:pw@tcp(db:3306)/app, which hide secrets under innocent keys like
// "dsn". A password that url.Parse cannot read (one with '#', '/' or '?'
// unescaped, or a DSN without a scheme) is masked by its text: everything
// between the user's ':' and the last '@'.
func URL(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + 3
	}
	colon := strings.IndexByte(s[start:at], ':')
	if colon < 0 {
		return s // a user without a password
	}
	return s[:start+colon+1] + "xxxxx" + s[at:]
}
