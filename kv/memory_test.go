package kv_test

import (
	"testing"
	"time"

	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtest"
)

func TestMemoryConformance(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_800_000_000, 0))
	// One backend for every store of the run, as a server would be.
	backend := kv.NewMemoryDriver(kv.WithClock(clock.Now))
	kvtest.Run(t, kvtest.Harness{
		New: func(t *testing.T, opts ...kv.Option) kv.Store {
			return kv.New(backend, opts...)
		},
		Advance: clock.Advance,
	})
}
