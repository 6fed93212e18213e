package router

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Throttle is adaptive client-side throttling (Google SRE book, "Handling
// Overload"): it counts requests and successes over a sliding window, and
// once requests exceed K × successes it rejects new ones locally with
// probability (requests − K·successes) / (requests + 1), so that a service
// that is failing is not buried under requests that would fail anyway,
// while some still go through to notice its recovery.
//
// While the service is healthy, Allow is one atomic load and no clock
// read; Record reads the clock only on a failure and once every 64
// successes, to move the window along. A Router keeps one per service
// (WithThrottle); it is exported to be used on its own too. It is safe for
// concurrent use.
type Throttle struct {
	k      float64
	minReq uint64
	width  int64 // ns per bucket
	base   time.Time

	throttling atomic.Bool
	epoch      atomic.Int64 // current bucket number since base

	mu      sync.Mutex // rotates the window
	buckets [throttleBuckets]throttleBucket
}

// throttleBucket counts requests in its high 32 bits and accepts in its
// low 32 bits, so that recording a result is one atomic add.
type throttleBucket struct{ n atomic.Uint64 }

const (
	oneRequest = 1 << 32
	oneAccept  = 1
)

const throttleBuckets = 10

// NewThrottle returns a throttle with multiplier k (2 is the book's
// advice: up to half the requests may fail before any is throttled) over a
// window of the given length (the book uses two minutes). It does not
// throttle before the window holds 20 requests.
func NewThrottle(k float64, window time.Duration) *Throttle {
	if window < throttleBuckets {
		window = throttleBuckets
	}
	return &Throttle{k: k, minReq: 20, width: int64(window) / throttleBuckets, base: time.Now()}
}

// Allow reports whether to send a request; false means reject it locally
// (and counts it as a request, as the book does, so that the rejection
// rate follows the failure rate).
func (t *Throttle) Allow() bool {
	if !t.throttling.Load() {
		return true
	}
	req, acc := t.refresh()
	p := (float64(req) - t.k*float64(acc)) / float64(req+1)
	if p <= 0 || rand.Float64() >= p {
		return true
	}
	t.bucket().n.Add(oneRequest)
	return false
}

// Record counts the result of a request that Allow let through.
func (t *Throttle) Record(success bool) {
	if success {
		if n := t.bucket().n.Add(oneRequest + oneAccept); n>>32&63 != 0 {
			return
		}
	} else {
		t.bucket().n.Add(oneRequest)
	}
	t.refresh()
}

func (t *Throttle) bucket() *throttleBucket {
	return &t.buckets[t.epoch.Load()%throttleBuckets]
}

// refresh moves the window to now, clearing the buckets that fell out of
// it, and recomputes whether to throttle. Only a rotation takes the lock.
func (t *Throttle) refresh() (requests, accepts uint64) {
	now := int64(time.Since(t.base)) / t.width
	if now > t.epoch.Load() {
		t.mu.Lock()
		if cur := t.epoch.Load(); now > cur {
			for e := max(cur+1, now-throttleBuckets+1); e <= now; e++ {
				t.buckets[e%throttleBuckets].n.Store(0)
			}
			t.epoch.Store(now)
		}
		t.mu.Unlock()
	}
	for i := range t.buckets {
		n := t.buckets[i].n.Load()
		requests += n >> 32
		accepts += n & (1<<32 - 1)
	}
	t.throttling.Store(requests >= t.minReq && float64(requests) > t.k*float64(accepts))
	return requests, accepts
}
