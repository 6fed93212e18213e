package router

import (
	"sync/atomic"
	"time"
)

// Limiter is a token bucket (as the generic cell rate algorithm: one
// atomic "theoretical arrival time" instead of a token count and a lock),
// so that Allow is one clock read and one compare-and-swap. A Router
// keeps one per service (WithRateLimit); it is exported to be used on its
// own too, for example in front of a handler. It is safe for concurrent use.
type Limiter struct {
	interval  int64 // ns per token
	tolerance int64 // how far ahead of now the arrival time may run: burst-1 tokens
	base      time.Time
	tat       atomic.Int64 // ns since base when the bucket is next full
}

// NewLimiter allows rate events per second on average, and bursts of up
// to burst at once (at least 1). A rate ≤ 0 allows nothing.
func NewLimiter(rate float64, burst int) *Limiter {
	burst = max(burst, 1)
	l := &Limiter{base: time.Now(), interval: -1}
	if rate > 0 {
		l.interval = max(int64(float64(time.Second)/rate), 1)
		l.tolerance = l.interval * int64(burst-1)
	}
	return l
}

// Allow takes a token if one is available and reports whether it did.
func (l *Limiter) Allow() bool {
	if l.interval < 0 {
		return false
	}
	now := int64(time.Since(l.base))
	for {
		old := l.tat.Load()
		tat := max(old, now)
		if tat-now > l.tolerance {
			return false
		}
		if l.tat.CompareAndSwap(old, tat+l.interval) {
			return true
		}
	}
}
