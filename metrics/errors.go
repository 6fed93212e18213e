package metrics

import (
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors every backend maps its own onto. Recording never returns an
// error (it must not cost the caller anything); mistakes are handed to the
// ErrorHandler (WithErrorHandler) wrapped in an *Error and counted in Stats.
var (
	// ErrInvalidValue: a counter was given a negative, NaN or infinite delta,
	// or a gauge or histogram a NaN. The value is dropped.
	ErrInvalidValue = oserr.New(oserr.Invalid, "metrics: invalid value")
	// ErrInvalidLabels: With was given a key the metric did not declare, or
	// an odd number of strings. The bad pair is ignored; the rest is recorded.
	ErrInvalidLabels = oserr.New(oserr.Invalid, "metrics: invalid labels")
	// ErrRedefined: a metric name was defined again with another kind or
	// other labels (class oserr.Invalid: the program is wrong, retrying
	// cannot help). The second definition records nothing.
	ErrRedefined = oserr.New(oserr.Invalid, "metrics: metric redefined with another kind or labels")
	// ErrOverflow: a metric reached its cap of distinct label sets
	// (WithMaxSeries); new sets are folded into the overflow series, whose
	// label values are all OverflowValue. Reported once per metric.
	ErrOverflow = oserr.New(oserr.Limited, "metrics: too many label sets")
	// ErrUnsupported: the backend cannot do what was asked (Snapshot on a
	// backend that only sends).
	ErrUnsupported = oserr.New(oserr.Unsupported, "metrics: not supported by this backend")
	// ErrUnavailable: the backend could not be reached (a statsd daemon
	// refusing packets). Values recorded meanwhile are dropped, not queued
	// without bound.
	ErrUnavailable = oserr.New(oserr.Unavailable, "metrics: backend unavailable")
	// ErrClosed: the Metrics was shut down; Check returns it, and what is
	// recorded afterwards is dropped.
	ErrClosed = oserr.New(oserr.Closed, "metrics: closed")
)

// Error is what the ErrorHandler receives: which metric, what went wrong.
type Error struct {
	Op     string // "define", "with", "add", "set", "observe", "flush", ...
	Metric string // the metric's full name, when there is one
	Err    error
}

func (e *Error) Error() string {
	if e.Metric == "" {
		return fmt.Sprintf("metrics: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("metrics: %s %q: %v", e.Op, e.Metric, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Unavailable wraps a backend's error as ErrUnavailable, keeping it
// reachable with errors.As.
func Unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// Wrap marks a backend's error as one of the sentinels, keeping it reachable
// with errors.As.
func Wrap(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }
