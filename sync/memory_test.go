package sync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/fakeclock"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/synctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) {
	m := ossync.NewMemoryBackend(nil)
	synctest.Run(t, synctest.Config{NewDriver: func(*testing.T) ossync.Driver { return m }, TTL: 300 * time.Millisecond})
}

// On a fake clock, expiry and loss need no sleeping: the lease is given
// up when the clock passes TTL minus the margin, and the backend frees the
// lock at the TTL.
func TestMemoryFakeClock(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(time.Unix(1_000_000, 0))
	m := ossync.NewMemoryBackend(clk.Now)
	fa := ossync.InjectFaults(m)
	opts := []ossync.Option{ossync.WithClock(clk.Now), ossync.WithTTL(time.Hour)}
	a := ossync.New(fa, opts...)
	defer a.Close()
	b := ossync.New(m, opts...)
	defer b.Close()

	la, err := a.Lock(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	fa.PauseRenewals()
	clk.Advance(50 * time.Minute)
	if _, err := b.TryLock(ctx, "job"); !errors.Is(err, ossync.ErrLocked) {
		t.Fatalf("TryLock before the TTL: %v, want ErrLocked", err)
	}
	clk.Advance(5 * time.Minute) // 55 min: past TTL - margin (54 min)
	// Asked right after the deadline, before the renewer's timer has had a
	// chance to run (as when it runs late on a loaded machine): Done is
	// already closed.
	select {
	case <-la.Done():
	default:
		t.Fatal("Done not closed when asked after the lease's deadline")
	}
	if !errors.Is(la.Err(), ossync.ErrLost) {
		t.Fatalf("Err = %v, want ErrLost", la.Err())
	}
	if _, err := b.TryLock(ctx, "job"); !errors.Is(err, ossync.ErrLocked) {
		t.Fatalf("TryLock between loss and expiry: %v, want ErrLocked (the margin)", err)
	}
	clk.Advance(5 * time.Minute)
	lb, err := b.TryLock(ctx, "job")
	if err != nil {
		t.Fatalf("TryLock after the TTL: %v", err)
	}
	if lb.Token() <= la.Token() {
		t.Fatalf("token %d after %d", lb.Token(), la.Token())
	}
}

// Renewals that fail are retried until the TTL is nearly gone: a backend
// that comes back in time keeps the lease.
func TestMemoryRenewalRetried(t *testing.T) {
	ctx := context.Background()
	m := ossync.NewMemoryBackend(nil)
	fa := ossync.InjectFaults(m)
	c := ossync.New(fa, ossync.WithTTL(600*time.Millisecond), ossync.WithRenewEvery(50*time.Millisecond), ossync.WithRetry(5*time.Millisecond, 20*time.Millisecond))
	defer c.Close()
	l, err := c.Lock(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	fa.FailRenewals(errors.New("injected"))
	// Wait until the client has seen a failure, then let renewals through.
	for c.Check(ctx) == nil {
		time.Sleep(time.Millisecond)
	}
	fa.Resume()
	for c.Check(ctx) != nil {
		select {
		case <-l.Done():
			t.Fatalf("lease lost though the backend came back within the TTL: %v", l.Err())
		case <-time.After(time.Millisecond):
		}
	}
	if l.Err() != nil {
		t.Fatal(l.Err())
	}
	l.Unlock(ctx)
}

func TestOpen(t *testing.T) {
	c, err := ossync.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var m *ossync.Memory
	if !c.As(&m) || m == nil {
		t.Fatal("As(**Memory) = false")
	}
	if _, err := ossync.Open(context.Background(), "mem://?x=1"); err == nil {
		t.Fatal("mem:// took an unknown parameter")
	}
	if _, err := ossync.Open(context.Background(), "nope://"); err == nil {
		t.Fatal("unknown scheme opened")
	}
}
