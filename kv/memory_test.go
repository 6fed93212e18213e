package kv_test

import (
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtest"
)

// fakeClock is the clock TTL tests advance instead of sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestMemoryConformance(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	// One backend for every store of the run, as a server would be.
	backend := kv.NewMemoryDriver(kv.WithClock(clock.Now))
	kvtest.Run(t, kvtest.Harness{
		New: func(t *testing.T, opts ...kv.Option) kv.Store {
			return kv.New(backend, opts...)
		},
		Advance: clock.Advance,
	})
}
