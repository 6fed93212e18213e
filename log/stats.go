package log

import (
	"errors"
	"sync/atomic"

	"github.com/microos/go-os/internal/health"
)

// Stats counts what happened to the lines given to an Output or Logger.
type Stats struct {
	Written uint64 // lines every output took without error
	Dropped uint64 // lines discarded by the queue's policy or by sampling
	Errors  uint64 // failed writes, syncs and rotations
	// LastError is the most recent failure, or nil.
	LastError error
}

// counters is the lock-free tally behind every Stats.
type counters struct {
	written, dropped, errs atomic.Uint64
	last                   atomic.Pointer[error]
	health                 health.Tracker // the latest write: taken, failed or dropped
}

// ok counts n lines taken by the outputs.
func (c *counters) ok(n uint64) {
	c.written.Add(n)
	c.health.Success()
}

// drop counts a line the queue dropped.
func (c *counters) drop() {
	c.dropped.Add(1)
	c.health.Failure(ErrDropped)
}

// fail counts err, wrapped as ErrOutput if it is not already, and returns it.
func (c *counters) fail(err error) error {
	if !errors.Is(err, ErrOutput) && !errors.Is(err, ErrClosed) {
		err = outputError(err)
	}
	c.errs.Add(1)
	c.last.Store(&err)
	c.health.Failure(err)
	return err
}

func (c *counters) stats() Stats {
	s := Stats{Written: c.written.Load(), Dropped: c.dropped.Load(), Errors: c.errs.Load()}
	if e := c.last.Load(); e != nil {
		s.LastError = *e
	}
	return s
}
