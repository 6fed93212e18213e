package log

import (
	"errors"
	"sync/atomic"
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
}

// fail counts err, wrapped as ErrOutput if it is not already, and returns it.
func (c *counters) fail(err error) error {
	if !errors.Is(err, ErrOutput) && !errors.Is(err, ErrClosed) {
		err = outputError(err)
	}
	c.errs.Add(1)
	c.last.Store(&err)
	return err
}

func (c *counters) stats() Stats {
	s := Stats{Written: c.written.Load(), Dropped: c.dropped.Load(), Errors: c.errs.Load()}
	if e := c.last.Load(); e != nil {
		s.LastError = *e
	}
	return s
}
