package sync

import (
	"context"
	"errors"
	gosync "sync"
	"time"
)

// Faults wraps a Driver to inject the failures a real holder meets, for
// tests on any backend: a holder whose renewals stall (a GC pause, a VM
// freeze, a partition between it and the backend), renewals that fail,
// or a holder that dies without unlocking. It is safe for concurrent use.
type Faults struct {
	Driver
	mu     gosync.Mutex
	paused chan struct{} // non-nil while renewals are paused; closed by Resume
	fail   error
	dead   bool
}

// InjectFaults wraps d.
func InjectFaults(d Driver) *Faults { return &Faults{Driver: d} }

// errDead is what a killed holder's calls get: nothing reaches the backend.
var errDead = errors.New("sync: holder killed by fault injection")

// PauseRenewals makes every Renew block until Resume or its ctx ends, as
// if the holder were frozen or cut off from the backend.
func (f *Faults) PauseRenewals() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused == nil {
		f.paused = make(chan struct{})
	}
}

// FailRenewals makes every Renew fail with err (wrapped as ErrUnavailable)
// until Resume.
func (f *Faults) FailRenewals(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// Kill makes every call fail at once without reaching the backend, as if
// the process holding the locks had died: its locks are freed only by
// their TTL.
func (f *Faults) Kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead = true
}

// Resume ends PauseRenewals and FailRenewals (not Kill).
func (f *Faults) Resume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused != nil {
		close(f.paused)
		f.paused = nil
	}
	f.fail = nil
}

func (f *Faults) state() (paused chan struct{}, fail error, dead bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paused, f.fail, f.dead
}

func (f *Faults) Acquire(ctx context.Context, req Request) (Grant, error) {
	if _, _, dead := f.state(); dead {
		return Grant{}, Unavailable(errDead)
	}
	return f.Driver.Acquire(ctx, req)
}

func (f *Faults) Renew(ctx context.Context, name string, g Grant, ttl time.Duration) error {
	paused, fail, dead := f.state()
	switch {
	case dead:
		return Unavailable(errDead)
	case fail != nil:
		return Unavailable(fail)
	case paused != nil:
		select {
		case <-paused:
		case <-ctx.Done():
			return Unavailable(ctx.Err())
		}
	}
	return f.Driver.Renew(ctx, name, g, ttl)
}

func (f *Faults) Release(ctx context.Context, name string, g Grant) error {
	if _, _, dead := f.state(); dead {
		return Unavailable(errDead)
	}
	return f.Driver.Release(ctx, name, g)
}

func (f *Faults) Holder(ctx context.Context, name string) (Holder, error) {
	if _, _, dead := f.state(); dead {
		return Holder{}, Unavailable(errDead)
	}
	return f.Driver.Holder(ctx, name)
}

func (f *Faults) Ping(ctx context.Context) error {
	if _, _, dead := f.state(); dead {
		return Unavailable(errDead)
	}
	return f.Driver.Ping(ctx)
}

// As passes through to the wrapped driver.
func (f *Faults) As(i any) bool {
	if a, ok := f.Driver.(interface{ As(any) bool }); ok {
		return a.As(i)
	}
	return false
}
