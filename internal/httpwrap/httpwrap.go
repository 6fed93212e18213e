// Package httpwrap holds what the net/http middlewares of every feature
// package share.
package httpwrap

import (
	"context"
	"net/http"
)

// Recorder wraps a handler's ResponseWriter to note the status and the
// body size it sent. Unwrap lets http.ResponseController reach the
// Flusher, Hijacker and deadlines of the writer underneath.
type Recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// NewRecorder wraps w.
func NewRecorder(w http.ResponseWriter) *Recorder { return &Recorder{ResponseWriter: w} }

// WriteHeader notes the first final status (1xx informational answers are
// passed on, not noted).
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Flush sends what is buffered; a writer that cannot flush ignores it.
func (r *Recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Status is the status sent: 200 when the handler wrote nothing, as
// net/http then sends.
func (r *Recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Bytes is the size of the body written so far.
func (r *Recorder) Bytes() int64 { return r.bytes }

type routeKey struct{}

// WithRouteSlot returns ctx with a place for the ServeMux pattern that
// serves the request, unless an outer wrapper put one there already.
// ServeMux sets Request.Pattern on the request it is handed; a wrapper
// further out holds an earlier copy (any wrapper in between that called
// WithContext made a new one) and would never see it. Every go-os
// middleware puts the slot in and reads the route with Route, so that the
// innermost one hands the pattern out to the others. (A wrapper of
// another library that copies the request and sits right next to the mux
// hides the pattern from all of them: keep a go-os middleware innermost.)
func WithRouteSlot(ctx context.Context) context.Context {
	if _, ok := ctx.Value(routeKey{}).(*string); ok {
		return ctx
	}
	return context.WithValue(ctx, routeKey{}, new(string))
}

// SetRoute puts pattern in ctx's route slot if the slot is still empty:
// for a middleware that learns the route before the mux runs (auth's
// WithRoutes), so that a request it answers itself is recorded by the
// wrappers outside under its route, not as unmatched.
func SetRoute(ctx context.Context, pattern string) {
	if slot, ok := ctx.Value(routeKey{}).(*string); ok && *slot == "" {
		*slot = pattern
	}
}

// Route is the pattern that served r (read after the handler ran): its own
// Pattern, or the one an inner wrapper saw. It records what it sees for
// the wrappers further out. "" when no pattern matched.
func Route(r *http.Request) string {
	slot, _ := r.Context().Value(routeKey{}).(*string)
	if r.Pattern != "" {
		if slot != nil && *slot == "" {
			*slot = r.Pattern
		}
		return r.Pattern
	}
	if slot != nil {
		return *slot
	}
	return ""
}
