package log

import (
	"context"
	"log/slog"
	"strings"
)

// DefaultRedactKeys are the attribute keys New redacts unless told
// otherwise. Keys match whatever their case and whatever group they are
// in, alone or at the end of a compound key (db_password, github-token).
var DefaultRedactKeys = []string{
	"password", "passwd", "secret", "client_secret", "token", "access_token",
	"refresh_token", "id_token", "api_key", "api-key", "apikey", "authorization",
	"cookie", "set-cookie", "private_key",
}

// Redacted is what a redacted value is replaced with.
const Redacted = "[REDACTED]"

// RedactHandler replaces the values of the configured keys with Redacted,
// in the record's attributes, in groups and in what LogValuers resolve to,
// before the record reaches next: the secret never reaches an output. A
// value logged under another key (a struct with a Password field logged
// whole) is out of its reach: give such types a LogValue method.
type RedactHandler struct {
	next slog.Handler
	keys *keySet
}

// NewRedactHandler returns a handler that redacts keys before next sees them.
func NewRedactHandler(next slog.Handler, keys ...string) *RedactHandler {
	return &RedactHandler{next: next, keys: newKeySet(keys)}
}

// keySet matches keys whatever their case. Every attribute of every record
// is looked up, so it compares only the keys of the same length and first
// letter.
type keySet struct {
	byLen [64][]string // lower-cased keys by length; longer ones in long
	long  []string
}

func newKeySet(keys []string) *keySet {
	s := &keySet{}
	for _, k := range keys {
		k = strings.ToLower(k)
		if k == "" {
			continue
		}
		if len(k) < len(s.byLen) {
			s.byLen[len(k)] = append(s.byLen[len(k)], k)
		} else {
			s.long = append(s.long, k)
		}
	}
	return s
}

// has reports whether key is one of the set, or a compound key that ends
// in one after a separator ('_', '-' or '.') or at a camelCase boundary:
// db_password, github-token, x.api_key and accessToken are secrets as much
// as password, token, api_key and access_token.
func (s *keySet) has(key string) bool {
	if s.exact(key) {
		return true
	}
	for i := 1; i < len(key); i++ {
		c, prev := key[i], key[i-1]
		switch {
		case (prev == '_' || prev == '-' || prev == '.') && s.exact(key[i:]):
			return true // db_password, github-token, X-Api-Key
		case 'A' <= c && c <= 'Z' && 'a' <= prev && prev <= 'z' && s.exact(key[i:]):
			return true // dbPassword, accessToken, clientSecret
		}
	}
	return false
}

func (s *keySet) exact(key string) bool {
	if key == "" {
		return false
	}
	candidates := s.long
	if len(key) < len(s.byLen) {
		candidates = s.byLen[len(key)]
	}
	for _, k := range candidates {
		if c := key[0]; (c == k[0] || c|0x20 == k[0]) && strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func (h *RedactHandler) secret(key string) bool { return h.keys.has(key) }

// needs reports whether a must be rewritten: it holds a secret, or a
// LogValuer that might resolve to one.
func (h *RedactHandler) needs(a slog.Attr) bool {
	switch a.Value.Kind() {
	case slog.KindLogValuer:
		return true
	case slog.KindGroup:
		for _, m := range a.Value.Group() {
			if h.needs(m) {
				return true
			}
		}
		return false
	}
	return h.secret(a.Key)
}

func (h *RedactHandler) redact(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if h.secret(a.Key) && !(a.Value.Kind() == slog.KindAny && a.Value.Any() == nil) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindGroup {
		members := a.Value.Group()
		out := make([]slog.Attr, len(members))
		for i, m := range members {
			out[i] = h.redact(m)
		}
		a.Value = slog.GroupValue(out...)
	}
	return a
}

// Enabled reports whether next handles level.
func (h *RedactHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r on, rebuilt with its secrets redacted when it has any;
// a record without one costs a scan of its keys and no allocation.
func (h *RedactHandler) Handle(ctx context.Context, r slog.Record) error {
	clean := true
	r.Attrs(func(a slog.Attr) bool {
		clean = !h.needs(a)
		return clean
	})
	if clean {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.redact(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs once and passes them to next.
func (h *RedactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = h.redact(a)
	}
	return &RedactHandler{next: h.next.WithAttrs(out), keys: h.keys}
}

// WithGroup passes name to next: keys are redacted in every group.
func (h *RedactHandler) WithGroup(name string) slog.Handler {
	return &RedactHandler{next: h.next.WithGroup(name), keys: h.keys}
}
