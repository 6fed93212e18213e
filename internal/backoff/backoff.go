// Package backoff is the retry schedule of every background loop against a
// backend (watches, heartbeats, flushes, reopening a file): capped
// exponential backoff with jitter, so that instances that lost a backend
// together do not come back in step (the thundering herd that drove
// Consul to 100% CPU in go-kit #627).
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Exp is lo doubled attempt times, capped at hi.
func Exp(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 0; i < attempt && d > 0 && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// Delay is the wait before retry attempt (counted from 0): Exp drawn
// uniformly from its upper half, [d/2, d].
func Delay(attempt int, lo, hi time.Duration) time.Duration {
	d := Exp(attempt, lo, hi)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// Backoff counts consecutive failures. The zero value needs Min and Max.
// It is not safe for concurrent use: each loop has its own.
type Backoff struct {
	Min, Max time.Duration
	n        int
}

// Next is the wait after one more failure.
func (b *Backoff) Next() time.Duration {
	d := Delay(b.n, b.Min, b.Max)
	b.n++
	return d
}

// Reset starts over after a success.
func (b *Backoff) Reset() { b.n = 0 }

// Sleep waits d or until ctx is done; it reports whether d elapsed.
func Sleep(ctx context.Context, d time.Duration) bool { return SleepDone(ctx.Done(), d) }

// SleepDone waits d or until done is closed; it reports whether d elapsed.
func SleepDone(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
