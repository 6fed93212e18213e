package trace

import (
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors exporters map their backend's errors onto. Test them with
// errors.Is, against the sentinel or its oserr class.
var (
	// ErrInvalidContext: a propagation header or id could not be parsed.
	// Extract never returns it (a malformed header starts a new trace); the
	// Parse functions do.
	ErrInvalidContext = oserr.New(oserr.Invalid, "trace: invalid trace context")
	// ErrClosed: the tracer was closed; spans ended after Close are dropped
	// and counted.
	ErrClosed = oserr.New(oserr.Closed, "trace: tracer closed")
	// ErrUnavailable: the collector could not be reached, did not answer in
	// time, or answered with a server error. Retrying may succeed.
	ErrUnavailable = oserr.New(oserr.Unavailable, "trace: collector unavailable")
	// ErrRejected: the collector refused the batch (a client error such as
	// 400 or 413). Retrying the same batch will not succeed, so its class
	// is oserr.Invalid (the input was refused), not Unavailable.
	ErrRejected = oserr.New(oserr.Invalid, "trace: batch rejected by collector")
)

// ExportError is what a failed export reports (in Stats.LastError and the
// logger): how many spans the batch had and why it failed. It unwraps to a
// sentinel and the backend's error.
type ExportError struct {
	Spans int
	Err   error
}

func (e *ExportError) Error() string {
	return fmt.Sprintf("trace: export %d spans: %v", e.Spans, e.Err)
}

func (e *ExportError) Unwrap() error { return e.Err }

// Unavailable wraps a backend's error as ErrUnavailable, keeping it
// reachable with errors.As. Exporters use it for connection errors,
// timeouts and 5xx answers.
func Unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// Rejected wraps a backend's error as ErrRejected.
func Rejected(err error) error { return fmt.Errorf("%w: %w", ErrRejected, err) }

func invalid(what, s string) error {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Errorf("%w: %s %q", ErrInvalidContext, what, s)
}
