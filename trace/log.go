package trace

import (
	"context"
	"log/slog"
)

// LogIDs is the one trace ↔ log bridge: it returns the hex ids of the span
// ctx carries, ok false when it carries none. Its signature is log.TraceIDs,
// so log.WithTraceIDs(trace.LogIDs) puts trace_id and span_id at the top
// level of every record made with a span's context.
func LogIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", "", false
	}
	return sc.TraceID.String(), sc.SpanID.String(), true
}

// Log attribute keys LogHandler and LogAttrs add.
const (
	LogTraceID = "trace_id"
	LogSpanID  = "span_id"
)

// LogHandler wraps a slog.Handler so that every record made with a context
// that carries a span (logger.InfoContext(ctx, ...)) gets trace_id and
// span_id attributes, which lets a log search jump to the trace and back.
// Records without a span pass through unchanged. Attributes of a WithGroup
// handler go into the group, like every other attribute.
//
// Deprecated: use log.WithTraceIDs(trace.LogIDs), which keeps the ids at
// the top level. LogHandler is removed once examples/demo no longer uses it.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String(LogTraceID, sc.TraceID.String()), slog.String(LogSpanID, sc.SpanID.String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }

// LogAttrs returns the trace_id and span_id attributes of the span in ctx,
// or nil, for loggers that are not slog handlers.
func LogAttrs(ctx context.Context) []slog.Attr {
	sc := SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return []slog.Attr{slog.String(LogTraceID, sc.TraceID.String()), slog.String(LogSpanID, sc.SpanID.String())}
}
