package discovery

import (
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with jitter: the n-th consecutive
// failure waits a random duration in [d/2, d) where d = min·2ⁿ capped at
// max, so that many clients that lost the backend together do not come
// back in step (the thundering herd that drove Consul to 100% CPU in
// go-kit #627).
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.n && d < b.max; i++ {
		d *= 2
	}
	if d > b.max {
		d = b.max
	}
	b.n++
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}

func (b *backoff) reset() { b.n = 0 }

// sleep waits d or until done is closed; it reports whether d elapsed.
func sleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
