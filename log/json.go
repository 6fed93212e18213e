package log

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/microos/go-os/internal/jsonw"
	"github.com/microos/go-os/internal/redact"
)

// HandlerOptions configures NewJSONHandler.
type HandlerOptions struct {
	// Level is the minimum level logged; nil means slog.LevelInfo. Pass a
	// *slog.LevelVar to change it while the program runs.
	Level slog.Leveler
	// AddSource adds "source":{"function","file","line"} to every line.
	AddSource bool
	// Context lists the funcs that take attributes from the ctx of every
	// record (trace ids, request id). The handler writes them at the top
	// level of the line, outside the groups of WithGroup, where log
	// pipelines look for them, and without allocating.
	Context []ContextFunc
}

// JSONHandler writes each record as one line of JSON (Filebeat's and
// Logstash's "ndjson"): "time" in UTC with microseconds, "level", "msg",
// then the attributes, groups as nested objects. It follows the slog.Handler
// contract (testing/slogtest passes) and, once its buffer pool is warm,
// allocates nothing for records whose values are strings, numbers, bools,
// durations or times.
//
// Each line reaches the writer in exactly one Write call. The outputs of
// this package and *os.File take concurrent writes as they are; any other
// writer is guarded by a mutex shared with the handlers derived by
// WithAttrs and WithGroup.
type JSONHandler struct {
	w      io.Writer
	level  slog.Leveler
	source bool
	ctx    []ContextFunc
	// prefix holds the members added by WithAttrs, already encoded, each
	// preceded by its comma, with open holding the count of the groups it
	// leaves open.
	prefix []byte
	open   int
	// pending are the groups named by WithGroup that no attribute has been
	// added to yet: a group without members is left out of the line.
	pending []string
	// stamp caches the formatted second; derived handlers share it.
	stamp *atomic.Pointer[secondStamp]
	// red, when set, applies the redaction rule while encoding (New's
	// default): the RedactHandler's work without a second pass.
	red *redactor
}

// NewJSONHandler returns a handler writing JSON lines to w; opts may be nil.
func NewJSONHandler(w io.Writer, opts *HandlerOptions) *JSONHandler {
	if opts == nil {
		opts = &HandlerOptions{}
	}
	h := &JSONHandler{w: concurrentSafe(w), level: opts.Level, source: opts.AddSource, ctx: opts.Context, stamp: new(atomic.Pointer[secondStamp])}
	if h.level == nil {
		h.level = slog.LevelInfo
	}
	return h
}

// concurrentSafe returns w as is when it is known to accept concurrent
// Write calls without interleaving them, otherwise w behind a mutex. Any
// io.WriteCloser satisfies Output, so the Output contract alone is not
// trusted here (a gzip.Writer is not safe).
func concurrentSafe(w io.Writer) io.Writer {
	switch w.(type) {
	case *os.File, *File, *Async, *Memory, *countingOutput, fanout, borrowed, stdio, writerOutput, *lockedWriter:
		return w
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.w.Write(p)
	l.mu.Unlock()
	return n, err
}

// Enabled reports whether level is at or above the handler's level.
func (h *JSONHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// Handle writes r as one line.
func (h *JSONHandler) Handle(ctx context.Context, r slog.Record) error {
	buf := getBuffer()
	b := *buf
	if r.Time.IsZero() {
		b = append(b, `{"level":`...)
	} else {
		b = appendTime(append(b, `{"time":"`...), r.Time, h.stamp)
		b = append(b, `","level":`...)
	}
	b = appendLevel(b, r.Level)
	b = append(b, `,"msg":`...)
	b = jsonw.AppendString(b, r.Message)
	if h.source && r.PC != 0 {
		b = appendSource(b, r.PC)
	}
	if len(h.ctx) > 0 && ctx != nil && ctx != context.Background() {
		b = appendContext(b, ctx, h.ctx, h.red)
	}
	b = append(b, h.prefix...)
	if r.NumAttrs() > 0 {
		mark := len(b)
		for _, g := range h.pending {
			b = appendKey(b, g)
			b = append(b, '{')
		}
		first := len(b)
		r.Attrs(func(a slog.Attr) bool {
			b = appendAttr(b, a, h.red)
			return true
		})
		if len(b) == first {
			b = b[:mark]
		} else {
			for range h.pending {
				b = append(b, '}')
			}
		}
	}
	for range h.open {
		b = append(b, '}')
	}
	b = append(b, '}', '\n')
	_, err := h.w.Write(b)
	*buf = b
	putBuffer(buf)
	return err
}

func appendContext(b []byte, ctx context.Context, funcs []ContextFunc, red *redactor) []byte {
	p := attrPool.Get().(*[]slog.Attr)
	attrs := (*p)[:0]
	for _, f := range funcs {
		attrs = f(ctx, attrs)
	}
	for _, a := range attrs {
		b = appendAttr(b, a, red)
	}
	clear(attrs) // let the values go
	*p = attrs[:0]
	attrPool.Put(p)
	return b
}

func appendLevel(b []byte, l slog.Level) []byte {
	switch l {
	case slog.LevelDebug:
		return append(b, `"DEBUG"`...)
	case slog.LevelInfo:
		return append(b, `"INFO"`...)
	case slog.LevelWarn:
		return append(b, `"WARN"`...)
	case slog.LevelError:
		return append(b, `"ERROR"`...)
	}
	return jsonw.AppendString(b, l.String())
}

func appendSource(b []byte, pc uintptr) []byte {
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	b = append(b, `,"source":{"function":`...)
	b = jsonw.AppendString(b, f.Function)
	b = append(b, `,"file":`...)
	b = jsonw.AppendString(b, f.File)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(f.Line), 10)
	return append(b, '}')
}

// appendAttr appends a as a member of the object being written; an empty
// attribute, or a group with no members, adds nothing. With red it
// applies the redaction rule on the way: a member without a secret costs
// the check of its key (cached) and, for a string, a scan for '@' and
// "bearer "; one with a secret is redacted as RedactHandler would.
func appendAttr(b []byte, a slog.Attr, red *redactor) []byte {
	v := a.Value
	kind := v.Kind()
	switch kind { // the common kinds first, without a detour
	case slog.KindString:
		if red != nil {
			return red.appendString(b, a)
		}
		b = appendKey(b, a.Key)
		return jsonw.AppendString(b, v.String())
	case slog.KindInt64:
		if red != nil {
			return red.appendInt64(b, a)
		}
		b = appendKey(b, a.Key)
		return appendInt(b, v.Int64())
	case slog.KindBool:
		if red != nil && red.secret(a.Key) {
			return appendMasked(b, a.Key)
		}
		b = appendKey(b, a.Key)
		if v.Bool() {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	if kind == slog.KindLogValuer {
		v = v.Resolve()
		kind = v.Kind()
		if red != nil { // what it resolved to goes through the checks above
			a.Value = v
			return appendAttr(b, a, red)
		}
	}
	switch kind {
	case slog.KindGroup:
		attrs := v.Group()
		if red != nil && red.secret(a.Key) {
			return appendMasked(b, a.Key)
		}
		if len(attrs) == 0 {
			return b
		}
		if a.Key == "" { // inline the group's members
			for _, m := range attrs {
				b = appendAttr(b, m, red)
			}
			return b
		}
		mark := len(b)
		b = appendKey(b, a.Key)
		b = append(b, '{')
		first := len(b)
		for _, m := range attrs {
			b = appendAttr(b, m, red)
		}
		if len(b) == first {
			return b[:mark]
		}
		return append(b, '}')
	case slog.KindAny:
		if a.Key == "" && v.Any() == nil {
			return b
		}
		if red != nil && (red.needsAny(v.Any()) || v.Any() != nil && red.secret(a.Key)) {
			return appendAttr(b, red.redact(a), nil)
		}
	default:
		if red != nil && red.secret(a.Key) {
			return appendMasked(b, a.Key)
		}
	}
	b = appendKey(b, a.Key)
	return appendValueOf(b, kind, v)
}

// appendString appends a string attribute, redacted if need be, in one
// scan of the value that both looks for what JSON escapes and for what
// may hold a secret ('@', "bearer ").
func (red *redactor) appendString(b []byte, a slog.Attr) []byte {
	secret, plainKey := red.cache.Lookup(a.Key)
	if secret {
		return appendMasked(b, a.Key)
	}
	s := a.Value.String()
	var esc, hint uint64
	switch n := len(s); {
	case n >= 8:
		var prev uint64
		for i := 0; ; i += 8 {
			if i > n-8 {
				i = n - 8
				prev = uint64(s[i-1])
			}
			x := jsonw.Load8(s, i)
			esc |= jsonw.Escapes8(x)
			hint |= redact.Hint8(x, prev)
			if i == n-8 {
				break
			}
			prev = x >> 56
		}
	case n >= 4:
		x := jsonw.Load4x2(s)
		esc, hint = jsonw.Escapes8(x), redact.Hint4x2(x)
	case n > 0:
		hint = uint64(bool2int(s[0] == '@' || s[n/2] == '@' || s[n-1] == '@'))
		esc = 1 // short: let AppendString look
	}
	if hint != 0 && redact.Needs(s) {
		return appendAttr(b, slog.String(a.Key, redact.String(s)), nil)
	}
	b = red.appendKey(b, a.Key, plainKey)
	if esc != 0 {
		return jsonw.AppendString(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendKey is appendKey with the key's scan answered by the cache.
func (red *redactor) appendKey(b []byte, key string, plain bool) []byte {
	if !plain {
		return appendKey(b, key)
	}
	b = appendComma(b)
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendInt64 appends an integer attribute, its key checked by the cache.
func (red *redactor) appendInt64(b []byte, a slog.Attr) []byte {
	secret, plainKey := red.cache.Lookup(a.Key)
	if secret {
		return appendMasked(b, a.Key)
	}
	b = red.appendKey(b, a.Key, plainKey)
	return appendInt(b, a.Value.Int64())
}

func bool2int(v bool) int {
	if v {
		return 1
	}
	return 0
}

// appendMasked appends key with the value Redacted.
func appendMasked(b []byte, key string) []byte {
	b = appendKey(b, key)
	return append(b, `"`+Redacted+`"`...)
}

// WithAttrs returns a handler whose lines carry attrs, encoded once here.
func (h *JSONHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	// The leading quote stands for the end of "msg" so that the first
	// member gets its comma; it is cut off below.
	b := append([]byte{'"'}, h.prefix...)
	for _, g := range h.pending {
		b = appendKey(b, g)
		b = append(b, '{')
	}
	first := len(b)
	for _, a := range attrs {
		b = appendAttr(b, a, h.red)
	}
	if len(b) == first {
		return h
	}
	h2 := *h
	h2.open += len(h.pending)
	h2.pending = nil
	h2.prefix = b[1:]
	return &h2
}

// WithGroup returns a handler that nests the attributes added after it
// under name.
func (h *JSONHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.pending = append(h.pending[:len(h.pending):len(h.pending)], name)
	return &h2
}
