package log

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/microos/go-os/internal/httpwrap"
	"log/slog"
	"net/http"
	"time"
)

// RequestIDHeader carries the request id between services.
const RequestIDHeader = "X-Request-Id"

// Middleware logs one access line per request, "http request" at Info
// (Warn for 4xx, Error for 5xx) with method, route (the ServeMux pattern
// that matched, when there is one), path, status, bytes written and
// duration in nanoseconds. It takes the request id from the X-Request-Id
// header, or makes one, returns it in the response header and puts it in
// the request's ctx, so that every line the handler logs with that ctx
// carries "request_id"; a logger built with WithTraceIDs adds the trace
// ids the same way when the tracing middleware runs before this one.
func Middleware(logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil { // still hand out request ids; log nothing
		logger = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(RequestIDHeader)
			if !ValidRequestID(id) {
				id = NewRequestID()
			}
			w.Header().Set(RequestIDHeader, id)
			ctx := WithRequestID(httpwrap.WithRouteSlot(r.Context()), id)
			r = r.WithContext(ctx)
			rec := httpwrap.NewRecorder(w)
			panicked := true
			defer func() {
				if !panicked {
					return
				}
				// The handler panicked: log the request as the 500 net/http
				// answers, then let the panic go on.
				p := recover()
				logRequest(ctx, logger, r, http.StatusInternalServerError, rec.Bytes(), start, slog.Any("panic", p))
				panic(p)
			}()
			next.ServeHTTP(rec, r)
			panicked = false
			logRequest(ctx, logger, r, rec.Status(), rec.Bytes(), start)
		})
	}
}

// logRequest writes the access line: Info, Warn for a 4xx, Error for a 5xx.
func logRequest(ctx context.Context, logger *slog.Logger, r *http.Request, status int, bytes int64, start time.Time, extra ...slog.Attr) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	route := httpwrap.Route(r)
	if route == "" {
		route = "unmatched"
	}
	attrs := append([]slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Duration("duration", time.Since(start)),
	}, extra...)
	logger.LogAttrs(ctx, level, "http request", attrs...)
}

// ValidRequestID reports whether an incoming id may be used as is: short and
// printable, so that a client cannot inject lines or huge fields.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// NewRequestID returns a random 16-hex-digit request id.
func NewRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Transport logs one line per outgoing request, "http client request" at
// Debug (Warn for a failed request or a 5xx answer) with method, host,
// path, status and duration, and sends the request id of the request's
// ctx in X-Request-Id so that the next service logs the same one. base nil
// means http.DefaultTransport.
func Transport(base http.RoundTripper, logger *slog.Logger) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &transport{base: base, logger: logger}
}

type transport struct {
	base   http.RoundTripper
	logger *slog.Logger
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if id := RequestID(ctx); id != "" && req.Header.Get(RequestIDHeader) == "" {
		req = req.Clone(ctx) // a RoundTripper must not modify the caller's request
		req.Header.Set(RequestIDHeader, id)
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	took := time.Since(start)
	level := slog.LevelDebug
	if err != nil || resp.StatusCode >= 500 {
		level = slog.LevelWarn
	}
	if !t.logger.Enabled(ctx, level) {
		return resp, err
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("host", req.URL.Host),
		slog.String("path", req.URL.Path),
		slog.Duration("duration", took),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	t.logger.LogAttrs(ctx, level, "http client request", attrs...)
	return resp, err
}
