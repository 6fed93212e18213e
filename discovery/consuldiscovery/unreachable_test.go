package consuldiscovery_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/testenv"
)

// TestUnreachable: with nothing listening, every call fails promptly with
// ErrUnavailable, and a watch reports the failure and retries until its
// ctx ends.
func TestUnreachable(t *testing.T) {
	testenv.Consul(t)
	r, err := discovery.Open(context.Background(), "consul://"+testenv.FreePort(t), discovery.WithRetry(10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	svc := &discovery.Service{Name: "nobody-home", Nodes: []*discovery.Node{{ID: "nobody-home-1", Address: "h"}}}
	if err := r.Register(ctx, svc); !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("Register = %v, want ErrUnavailable", err)
	}
	if _, err := r.GetService(ctx, "nobody-home"); !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("GetService = %v, want ErrUnavailable", err)
	}
	var op *discovery.OpError
	if _, err := r.ListServices(ctx); !errors.As(err, &op) || op.Op != "listservices" || !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("ListServices = %v, want an *OpError wrapping ErrUnavailable", err)
	}
	wctx, stop := context.WithCancel(ctx)
	events, err := r.Watch(wctx, "nobody-home")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		ev := <-events
		if ev.Type != discovery.EventError || !errors.Is(ev.Err, discovery.ErrUnavailable) {
			t.Fatalf("event %d: %v %v, want EventError with ErrUnavailable", i, ev.Type, ev.Err)
		}
	}
	stop()
	for range events {
	}

	// A deadline bounds a call to a server that hangs: it accepts
	// connections (the kernel does, into the backlog) but never answers.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	blackhole, err := discovery.Open(context.Background(), "consul://"+hung.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer blackhole.Close()
	start := time.Now()
	if _, err := blackhole.GetService(short, "x"); !errors.Is(err, discovery.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetService past its deadline = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("GetService with a 50ms deadline took %s", took)
	}
}

// A Consul that accepts a blocking query and never answers must not hold
// a watch forever: past wait + wait/16 + 2 s the watch reports
// ErrUnavailable, so that a cache serves its last answer as stale.
func TestWatchOfAHungConsulFails(t *testing.T) {
	testenv.Consul(t)
	r, err := discovery.Open(context.Background(), "consul://"+testenv.Hung(t)+"?wait=200ms", discovery.WithRetry(10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	events, err := r.Watch(ctx, "hung")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Type != discovery.EventError || !errors.Is(ev.Err, discovery.ErrUnavailable) {
			t.Fatalf("first event %v %v, want EventError with ErrUnavailable", ev.Type, ev.Err)
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Fatalf("the hung query was noticed after %v", took)
		}
	case <-ctx.Done():
		t.Fatal("a watch on a hung Consul sent nothing in 10 s")
	}
	cancel()
	for range events {
	}
}
