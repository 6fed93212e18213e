// Package health is the one implementation of the Check(ctx) error that
// every long-lived go-os type has: a Tracker remembers how the type's own
// backend calls (requests, heartbeats, watches, flushes) went, so that
// Check answers from memory, without a round trip of its own.
package health

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Tracker records the outcome of backend calls. The zero value is ready
// and healthy. Safe for concurrent use; Success on a healthy Tracker is one
// atomic load, so it can sit on a hot path.
type Tracker struct {
	last atomic.Pointer[failure]
	// Now is the clock (time.Now when nil); set it before first use.
	Now func() time.Time
}

type failure struct {
	err   error
	since time.Time // the first failure of this outage
	at    time.Time // the latest failure
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Success records a call that reached the backend and got an answer.
func (t *Tracker) Success() {
	if t.last.Load() != nil {
		t.last.Store(nil)
	}
}

// Failure records a call that failed because of the backend (not because
// of the caller's input or cancellation: those say nothing of its health).
func (t *Tracker) Failure(err error) {
	now := t.now()
	f := &failure{err: err, since: now, at: now}
	if old := t.last.Load(); old != nil {
		f.since = old.since
	}
	t.last.Store(f)
}

// Observe records err: Success when nil, else Failure.
func (t *Tracker) Observe(err error) {
	if err == nil {
		t.Success()
		return
	}
	t.Failure(err)
}

// Check returns nil while the latest call succeeded (or none was made),
// else an *Error that wraps sentinel (the package's ErrUnavailable,
// ErrForbidden, ...) and the latest failure, with its age. It returns
// ctx.Err() if ctx is done. It never blocks.
func (t *Tracker) Check(ctx context.Context, sentinel error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := t.last.Load()
	if f == nil {
		return nil
	}
	now := t.now()
	return &Error{Kind: sentinel, Last: f.err, Since: f.since, Age: now.Sub(f.at)}
}

// Error is what Check returns for an unhealthy type. It unwraps to Kind
// (so errors.Is(err, pkg.ErrUnavailable) and oserr.Code work) and to Last.
type Error struct {
	Kind  error         // the package's sentinel
	Last  error         // the latest failure
	Since time.Time     // when the failures began
	Age   time.Duration // how long ago the latest failure was
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: failing since %s, last failure %s ago: %v",
		e.Kind, e.Since.UTC().Format(time.RFC3339), e.Age.Round(time.Millisecond), e.Last)
}

func (e *Error) Unwrap() []error { return []error{e.Kind, e.Last} }
