package event

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/microos/go-os/internal/health"
)

// tracker is a health.Tracker that remembers the class of the latest
// failure, so that Check answers ErrForbidden for refused credentials and
// ErrUnavailable otherwise. Drivers' cursors use it through NewHealth.
type tracker struct {
	health.Tracker
	forbidden atomic.Bool
}

// observe records a backend call's outcome; errors that say nothing of
// the backend (the caller's invalid input, a closed bus) are ignored.
func (t *tracker) observe(err error) {
	switch {
	case err == nil:
		t.Success()
	case errors.Is(err, ErrForbidden):
		t.forbidden.Store(true)
		t.Failure(err)
	case errors.Is(err, ErrUnavailable):
		t.forbidden.Store(false)
		t.Failure(err)
	}
}

func (t *tracker) check(ctx context.Context) error {
	if t.forbidden.Load() {
		return t.Check(ctx, ErrForbidden)
	}
	return t.Check(ctx, ErrUnavailable)
}

// Health is what a driver's Cursor keeps of its reads for Cursor.Check:
// Observe every backend call's error (nil on success); Check answers from
// memory. The zero value is healthy.
type Health struct{ t tracker }

// Observe records a backend call's outcome.
func (h *Health) Observe(err error) { h.t.observe(err) }

// Check is nil while the latest call succeeded, else an error wrapping
// ErrUnavailable or ErrForbidden and the latest failure.
func (h *Health) Check(ctx context.Context) error { return h.t.check(ctx) }
