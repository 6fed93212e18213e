package log

import (
	"context"
	"log/slog"
	"sync"
)

// ContextFunc appends to attrs the attributes that ctx carries (trace and
// span ids, a request id) and returns the result, like append. It runs on
// the caller's goroutine for every record logged with a ctx and must be
// cheap: attrs comes from a pool, so appending to it allocates nothing.
type ContextFunc func(ctx context.Context, attrs []slog.Attr) []slog.Attr

// TraceIDs reads the ids of the span ctx carries, ok false when it has
// none. It is the one trace ↔ log bridge: log.WithTraceIDs(trace.LogIDs)
// with go-os's tracer, or a func of this signature over any other
// (OpenTelemetry's trace.SpanContextFromContext, for example). With the
// JSON format the ids are written at the top level of the record, outside
// any group opened with WithGroup.
type TraceIDs func(ctx context.Context) (traceID, spanID string, ok bool)

// TraceContext returns the ContextFunc that adds "trace_id" and "span_id",
// the field names Elastic APM and Grafana correlate logs on.
func TraceContext(ids TraceIDs) ContextFunc {
	return func(ctx context.Context, attrs []slog.Attr) []slog.Attr {
		if traceID, spanID, ok := ids(ctx); ok {
			attrs = append(attrs, slog.String("trace_id", traceID), slog.String("span_id", spanID))
		}
		return attrs
	}
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id that RequestIDContext
// logs; Middleware calls it for every request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestIDContext adds "request_id" when ctx carries one.
func RequestIDContext(ctx context.Context, attrs []slog.Attr) []slog.Attr {
	if id := RequestID(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	return attrs
}

// ContextHandler adds the attributes its ContextFuncs take from the ctx
// of every record before passing it on, for handlers other than
// JSONHandler (the Text format): like every attribute of a record, they
// land inside the groups opened with WithGroup on the logger. JSONHandler
// runs the ContextFuncs itself and writes their fields at the top level.
type ContextHandler struct {
	next  slog.Handler
	funcs []ContextFunc
}

// NewContextHandler returns a handler that runs funcs on every record and
// passes it to next.
func NewContextHandler(next slog.Handler, funcs ...ContextFunc) *ContextHandler {
	return &ContextHandler{next: next, funcs: funcs}
}

// Enabled reports whether next handles level.
func (h *ContextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds ctx's attributes to r and passes it on.
func (h *ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil || ctx == context.Background() || len(h.funcs) == 0 {
		return h.next.Handle(ctx, r)
	}
	p := attrPool.Get().(*[]slog.Attr)
	attrs := (*p)[:0]
	for _, f := range h.funcs {
		attrs = f(ctx, attrs)
	}
	if len(attrs) > 0 {
		r = r.Clone() // never append to a back array another copy shares
		r.AddAttrs(attrs...)
	}
	clear(attrs) // let the values go
	*p = attrs[:0]
	attrPool.Put(p)
	return h.next.Handle(ctx, r)
}

var attrPool = sync.Pool{New: func() any { s := make([]slog.Attr, 0, 4); return &s }}

// WithAttrs passes attrs to next.
func (h *ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &ContextHandler{next: h.next.WithAttrs(attrs), funcs: h.funcs}
}

// WithGroup passes name to next.
func (h *ContextHandler) WithGroup(name string) slog.Handler {
	return &ContextHandler{next: h.next.WithGroup(name), funcs: h.funcs}
}
