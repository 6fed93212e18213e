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

// Log attribute keys LogAttrs adds (log.WithTraceIDs uses the same).
const (
	LogTraceID = "trace_id"
	LogSpanID  = "span_id"
)

// LogAttrs returns the trace_id and span_id attributes of the span in ctx,
// or nil, for loggers that are not slog handlers.
func LogAttrs(ctx context.Context) []slog.Attr {
	sc := SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return []slog.Attr{slog.String(LogTraceID, sc.TraceID.String()), slog.String(LogSpanID, sc.SpanID.String())}
}
