package kv_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

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

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A miss is the bare ErrNotFound and costs no allocation, with or without
// the health tracking behind Check.
func TestMissIsAllocationFree(t *testing.T) {
	s := kv.NewMemory()
	defer s.Close()
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Get(ctx, "missing"); err != kv.ErrNotFound {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a miss allocates %v times, want 0", allocs)
	}
}

// A hook that allocates nothing adds no allocation: Calls are pooled.
func TestHookAddsNoAllocation(t *testing.T) {
	passthrough := func(next kv.Invoker) kv.Invoker {
		return func(ctx context.Context, c *kv.Call) error { return next(ctx, c) }
	}
	s := kv.NewMemory(kv.WithHook(passthrough))
	defer s.Close()
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Get(ctx, "missing"); err != kv.ErrNotFound {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("a hooked miss allocates %v times, want 0", allocs)
	}
}
