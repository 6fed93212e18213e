package trace

import (
	"sync/atomic"
	"time"
)

// clock reads span times. A span reads the clock twice (start and end),
// and on virtual machines whose clock is read by a system call (no vDSO
// fast path) time.Now costs two clock reads, wall and monotonic, of a few
// hundred nanoseconds together: most of a sampled span's cost. So the
// default clock reads only the monotonic clock on the hot path: a span's
// start is a wall-clock reading of at most a second ago plus the
// monotonic time elapsed since (time.Since reads one clock), and its end
// is its start plus the monotonic time elapsed since the start. Durations
// are exact; a wall time is off by what the wall clock slews or steps in
// that second at most, and a step is picked up within a second.
type clock struct {
	custom func() time.Time          // WithClock, read as it is
	base   atomic.Pointer[time.Time] // the last wall reading, with its monotonic one
}

// rebase is how old the wall reading may be.
const rebase = time.Second

func (c *clock) now() time.Time {
	if c.custom != nil {
		return c.custom()
	}
	if b := c.base.Load(); b != nil {
		if d := time.Since(*b); d >= 0 && d < rebase {
			return b.Add(d)
		}
	}
	n := time.Now()
	c.base.Store(&n)
	return n
}

// end is the time a span that started at start ends: start plus the
// monotonic time elapsed when start came from the default clock (mono).
func (c *clock) end(start time.Time, mono bool) time.Time {
	if c.custom == nil && mono {
		return start.Add(time.Since(start))
	}
	return c.now()
}
