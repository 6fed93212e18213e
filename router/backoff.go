package router

import (
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with jitter for restarting a
// discovery watch: the n-th failure in a row waits a random duration in
// [d/2, d), d = min·2ⁿ capped at max.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }
