package router

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHedgeBeatsASlowNode(t *testing.T) {
	clock := newClock()
	r, s := newTestRouter(t, 2, clock, WithStrategy(RoundRobin()), WithThrottle(0),
		WithRetryPolicy(Retry{Attempts: 2, HedgeAfter: 0.9}))
	ctx := context.Background()
	// 200 fast results: the hedge delay becomes the p90 of ~1ms.
	for i := 0; i < 200; i++ {
		p, _ := s.pick("", nil)
		p.Done(nil, time.Millisecond)
	}
	s.updateHedgeDelay()
	if d := time.Duration(s.hedgeAt.Load()); d <= 0 || d > 2*time.Millisecond {
		t.Fatalf("hedge delay %v, want the p90 of 1ms results", d)
	}
	for i := 0; i < 10; i++ {
		start := time.Now()
		err := r.Do(ctx, "api", "", func(ctx context.Context, n *Node) error {
			if n.ID == "api-0" { // hangs until cancelled
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		})
		if err != nil {
			t.Fatalf("hedged Do = %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("hedged Do waited for the slow node")
		}
	}
	st := s.stats()
	if st.Hedges == 0 {
		t.Error("no hedge was sent although one node never answers")
	}
	// NoHedge: the slow node is waited for (up to the ctx's deadline).
	hedges := s.hedges.Load()
	for i := 0; i < 2; i++ { // one of two round-robin picks is the slow node
		short, cancel := context.WithTimeout(NoHedge(ctx), 20*time.Millisecond)
		r.Do(short, "api", "", func(ctx context.Context, n *Node) error {
			if n.ID == "api-0" {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		})
		cancel()
	}
	if s.hedges.Load() != hedges {
		t.Error("Do hedged a call made with NoHedge")
	}
	// The first attempt failing fast is retried at once.
	err := r.Do(ctx, "api", "", func(ctx context.Context, n *Node) error {
		if n.ID == "api-0" {
			return errors.New("refused")
		}
		return nil
	})
	if err != nil {
		t.Errorf("hedged Do with a failing node = %v, want the retry's success", err)
	}
}

// An error marked Permanent is never sent again, hedged or not.
func TestHedgedDoHonoursPermanent(t *testing.T) {
	clock := newClock()
	r, s := newTestRouter(t, 2, clock, WithStrategy(RoundRobin()), WithThrottle(0),
		WithRetryPolicy(Retry{Attempts: 2, HedgeAfter: 0.95}))
	for i := 0; i < 200; i++ {
		p, _ := s.pick("", nil)
		p.Done(nil, time.Millisecond)
	}
	s.updateHedgeDelay()
	calls := 0
	err := r.Do(context.Background(), "api", "", func(context.Context, *Node) error {
		calls++
		return Permanent(errors.New("must not be sent twice"))
	})
	if err == nil || calls != 1 {
		t.Fatalf("Do with a Permanent error: %d calls, %v; want 1 call and the error", calls, err)
	}
}
