// Package httpwrap holds what the net/http middlewares of every feature
// package share.
package httpwrap

import "net/http"

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
