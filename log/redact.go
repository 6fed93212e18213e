package log

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"

	"github.com/microos/go-os/internal/redact"
)

// DefaultRedactKeys are the secret words: an attribute whose key contains
// one anywhere, whatever its case and group (password, db_password,
// AWS_SECRET_ACCESS_KEY, githubToken), is redacted. They are the words of
// the one go-os redaction rule, which config's redacted dump applies too.
var DefaultRedactKeys = redact.DefaultWords

// Redacted is what a redacted value is replaced with.
const Redacted = redact.Mask

// RedactHandler keeps secrets out of the outputs, with the rule config's
// redacted dump applies too: it replaces with Redacted the values of keys
// holding a secret word; masks, in string values, the passwords of URLs and
// DSNs (redis://:pw@host, postgres://u:pw@h/db) and the tokens after
// "Bearer "; and in an http.Header or a gRPC metadata.MD logged as a value,
// the values of Authorization, Proxy-Authorization, Cookie and Set-Cookie.
// It does so in the record's attributes, in groups and in what LogValuers
// resolve to, before the record reaches next. A secret inside a struct
// logged whole is out of its reach: give such types a LogValue method.
//
// It is the generic path, for a handler that is not this package's: the
// Logger's JSON encoder applies the same rule itself, during its one pass
// over the attributes, and New builds no RedactHandler for it.
type RedactHandler struct {
	next slog.Handler
	*redactor
}

// NewRedactHandler returns a handler that redacts DefaultRedactKeys and
// keys before next sees them.
func NewRedactHandler(next slog.Handler, keys ...string) *RedactHandler {
	return &RedactHandler{next: next, redactor: newRedactor(keys)}
}

// redactor applies the rule: the RedactHandler's and the JSON encoder's.
type redactor struct {
	keys  *redact.Keys
	cache *redact.KeyCache
}

func newRedactor(keys []string) *redactor {
	k := redact.NewKeys(keys...)
	return &redactor{keys: k, cache: redact.NewKeyCache(k)}
}

func (h *redactor) secret(key string) bool { return h.cache.Secret(key) }

var headerType = reflect.TypeFor[map[string][]string]()

// needs reports whether a must be rewritten: it holds a secret, or a
// LogValuer that might resolve to one.
func (h *redactor) needs(a slog.Attr) bool {
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
	case slog.KindString:
		if redact.Needs(a.Value.String()) {
			return true
		}
	case slog.KindAny:
		if h.needsAny(a.Value.Any()) {
			return true
		}
	}
	return h.secret(a.Key)
}

// needsAny reports whether the value of a KindAny must be rewritten
// whatever its key.
func (h *redactor) needsAny(v any) bool {
	switch v := v.(type) {
	case http.Header, *url.URL, url.URL:
		return true
	case error:
		msg, ok := errorText(v)
		return ok && redact.Needs(msg) // a dial error naming redis://:pw@host
	case nil:
		return false
	default:
		t := reflect.TypeOf(v)
		return t.Kind() == reflect.Map && t.ConvertibleTo(headerType) // gRPC's metadata.MD, a map[string][]string
	}
}

// value masks what a value holds, for a key that is not secret itself.
func (h *redactor) value(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(redact.String(v.String()))
	case slog.KindAny:
		switch x := v.Any().(type) {
		case http.Header:
			return slog.AnyValue(redact.Header(x, h.keys))
		case *url.URL:
			if x != nil {
				return slog.StringValue(x.Redacted())
			}
		case url.URL:
			return slog.StringValue(x.Redacted())
		case error:
			if msg, ok := errorText(x); ok {
				return slog.StringValue(redact.String(msg))
			}
		default:
			if x == nil {
				break
			}
			if rv := reflect.ValueOf(x); rv.Kind() == reflect.Map && rv.Type().ConvertibleTo(headerType) {
				return slog.AnyValue(redact.Header(rv.Convert(headerType).Interface().(map[string][]string), h.keys))
			}
		}
	}
	return v
}

func (h *redactor) redact(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if h.secret(a.Key) && !(a.Value.Kind() == slog.KindAny && a.Value.Any() == nil) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() != slog.KindGroup {
		a.Value = h.value(a.Value)
		return a
	}
	members := a.Value.Group()
	out := make([]slog.Attr, len(members))
	for i, m := range members {
		out[i] = h.redact(m)
	}
	a.Value = slog.GroupValue(out...)
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
	return &RedactHandler{next: h.next.WithAttrs(out), redactor: h.redactor}
}

// WithGroup passes name to next: keys are redacted in every group.
func (h *RedactHandler) WithGroup(name string) slog.Handler {
	return &RedactHandler{next: h.next.WithGroup(name), redactor: h.redactor}
}

// errorText is err.Error(), ok false when it panics (a typed nil pointer).
func errorText(err error) (msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return err.Error(), true
}
