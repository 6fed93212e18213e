// Package eventtest is the conformance suite every event backend runs.
package eventtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/oserr"
)

// NewBus returns a fresh, empty bus for one case.
type NewBus func(t *testing.T) *event.Bus

const wait = 10 * time.Second

// collector gathers what a handler saw.
type collector struct {
	mu   sync.Mutex
	recs []event.Record
	ch   chan event.Record
}

func newCollector() *collector { return &collector{ch: make(chan event.Record, 1024)} }

func (c *collector) handle(_ context.Context, r event.Record) error {
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	c.ch <- r
	return nil
}

func (c *collector) take(t *testing.T, n int) []event.Record {
	t.Helper()
	out := make([]event.Record, 0, n)
	timeout := time.After(wait)
	for len(out) < n {
		select {
		case r := <-c.ch:
			out = append(out, r)
		case <-timeout:
			t.Fatalf("got %d records, want %d", len(out), n)
		}
	}
	return out
}

func subscribe(t *testing.T, b *event.Bus, h event.Handler, o event.SubscribeOptions) {
	t.Helper()
	s, err := b.Subscribe(context.Background(), h, o)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(s.Stop)
}

func publish(t *testing.T, ctx context.Context, b *event.Bus, typ string, data string) string {
	t.Helper()
	id, err := b.Publish(ctx, event.Record{Type: typ, Data: []byte(data)})
	if err != nil {
		t.Fatalf("Publish %s: %v", typ, err)
	}
	return id
}

// Run runs every case against buses made by newBus.
func Run(t *testing.T, newBus NewBus) {
	ctx := context.Background()
	t.Run("PublishSubscribe", func(t *testing.T) {
		b := newBus(t)
		c := newCollector()
		subscribe(t, b, c.handle, event.SubscribeOptions{Start: event.FromBeginning})
		id := publish(t, ctx, b, "user.created", "alice")
		got := c.take(t, 1)[0]
		if got.ID != id || got.Type != "user.created" || string(got.Data) != "alice" || got.RootID != id || got.Timestamp.IsZero() {
			t.Fatalf("got %+v, want id %s", got, id)
		}
	})
	t.Run("TypePatterns", func(t *testing.T) {
		b := newBus(t)
		c := newCollector()
		subscribe(t, b, c.handle, event.SubscribeOptions{Types: []string{"config.*", "user.deleted"}, Start: event.FromBeginning})
		publish(t, ctx, b, "user.created", "no")
		publish(t, ctx, b, "config.changed", "1")
		publish(t, ctx, b, "user.deleted", "2")
		publish(t, ctx, b, "configx", "no")
		publish(t, ctx, b, "config.reloaded", "3")
		got := c.take(t, 3)
		for i, want := range []string{"1", "2", "3"} {
			if string(got[i].Data) != want {
				t.Fatalf("record %d = %q (%s), want %q", i, got[i].Data, got[i].Type, want)
			}
		}
		if _, err := b.Subscribe(ctx, c.handle, event.SubscribeOptions{Types: []string{"["}}); !errors.Is(err, event.ErrInvalid) {
			t.Fatalf("bad pattern: %v, want ErrInvalid", err)
		}
	})
	t.Run("GroupVsBroadcast", func(t *testing.T) {
		b := newBus(t)
		g1, g2, all1, all2 := newCollector(), newCollector(), newCollector(), newCollector()
		for _, c := range []*collector{g1, g2} {
			subscribe(t, b, c.handle, event.SubscribeOptions{Group: "workers", Start: event.FromBeginning})
		}
		subscribe(t, b, all1.handle, event.SubscribeOptions{Start: event.FromBeginning})
		subscribe(t, b, all2.handle, event.SubscribeOptions{Start: event.FromBeginning})
		const n = 50
		ids := map[string]bool{}
		for i := range n {
			ids[publish(t, ctx, b, "job", fmt.Sprint(i))] = true
		}
		all1.take(t, n)
		all2.take(t, n)
		seen := map[string]int{}
		timeout := time.After(wait)
		for len(seen) < n {
			select {
			case r := <-g1.ch:
				seen[r.ID]++
			case r := <-g2.ch:
				seen[r.ID]++
			case <-timeout:
				t.Fatalf("group handled %d of %d", len(seen), n)
			}
		}
		for id, k := range seen {
			if !ids[id] || k != 1 {
				t.Fatalf("group handled %s %d times", id, k)
			}
		}
	})
	t.Run("Replay", func(t *testing.T) {
		b := newBus(t)
		first := publish(t, ctx, b, "a", "0")
		rs, _, err := b.Read(ctx, event.Query{})
		if err != nil || len(rs) != 1 {
			t.Fatalf("Read: %v %v", rs, err)
		}
		publish(t, ctx, b, "a", "1")
		publish(t, ctx, b, "a", "2")
		fromStart, afterFirst, fromTime, fromNow := newCollector(), newCollector(), newCollector(), newCollector()
		subscribe(t, b, fromStart.handle, event.SubscribeOptions{Start: event.FromBeginning})
		subscribe(t, b, afterFirst.handle, event.SubscribeOptions{Start: event.AfterID(first)})
		subscribe(t, b, fromTime.handle, event.SubscribeOptions{Start: event.FromTime(rs[0].Timestamp)})
		subscribe(t, b, fromNow.handle, event.SubscribeOptions{Start: event.FromNow})
		publish(t, ctx, b, "a", "3")
		if got := fromStart.take(t, 4); string(got[0].Data) != "0" || string(got[3].Data) != "3" {
			t.Fatalf("from beginning: %q..%q", got[0].Data, got[3].Data)
		}
		if got := afterFirst.take(t, 3); string(got[0].Data) != "1" {
			t.Fatalf("after id: first %q, want 1", got[0].Data)
		}
		if got := fromTime.take(t, 4); string(got[0].Data) != "0" {
			t.Fatalf("from time: first %q, want 0", got[0].Data)
		}
		if got := fromNow.take(t, 1); string(got[0].Data) != "3" {
			t.Fatalf("from now: first %q, want 3", got[0].Data)
		}
	})
	t.Run("RedeliveryAndDeadLetter", func(t *testing.T) {
		b := newBus(t)
		var mu sync.Mutex
		attempts := map[string]int{}
		done := make(chan string, 10)
		h := func(_ context.Context, r event.Record) error {
			mu.Lock()
			attempts[string(r.Data)]++
			n := attempts[string(r.Data)]
			mu.Unlock()
			if string(r.Data) == "poison" && n <= 3 { // group g handles the redriven copy
				if n == 3 {
					done <- "poison"
				}
				return errors.New("cannot")
			}
			if n < 2 {
				return errors.New("transient")
			}
			done <- string(r.Data)
			return nil
		}
		subscribe(t, b, h, event.SubscribeOptions{Group: "g", Start: event.FromBeginning, MaxAttempts: 3, Backoff: time.Millisecond})
		publish(t, ctx, b, "x", "flaky")
		poison := publish(t, ctx, b, "x", "poison")
		for range 2 {
			select {
			case <-done:
			case <-time.After(wait):
				t.Fatal("no delivery")
			}
		}
		var dl []event.DeadLetter
		deadline := time.Now().Add(wait)
		for len(dl) == 0 && time.Now().Before(deadline) {
			var err error
			if dl, err = b.DeadLetters(ctx); err != nil {
				t.Fatal(err)
			}
			if len(dl) == 0 {
				time.Sleep(time.Millisecond) // polling the backend, not synchronising
			}
		}
		if len(dl) != 1 || dl[0].Record.ID != poison || dl[0].Group != "g" {
			t.Fatalf("dead letters %+v, want %s", dl, poison)
		}
		c := newCollector()
		subscribe(t, b, c.handle, event.SubscribeOptions{Group: "redrive", Start: event.FromNow, Types: []string{"x"}})
		nid, err := b.Redrive(ctx, poison)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.take(t, 1)[0]; got.ID != nid || string(got.Data) != "poison" {
			t.Fatalf("redriven %+v", got)
		}
		if dl, _ := b.DeadLetters(ctx); len(dl) != 0 {
			t.Fatalf("dead letter still there after Redrive: %+v", dl)
		}
	})
	t.Run("TakeoverFromStoppedMember", func(t *testing.T) {
		b := newBus(t)
		inFlight := make(chan string, 1)
		a, err := b.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
			inFlight <- r.ID
			<-ctx.Done() // the member dies mid-handling
			return ctx.Err()
		}, event.SubscribeOptions{Group: "takeover", Start: event.FromBeginning})
		if err != nil {
			t.Fatal(err)
		}
		id := publish(t, ctx, b, "job", "work")
		select {
		case got := <-inFlight:
			if got != id {
				t.Fatalf("in flight %s, want %s", got, id)
			}
		case <-time.After(wait):
			t.Fatal("first member never got the record")
		}
		c := newCollector()
		subscribe(t, b, c.handle, event.SubscribeOptions{Group: "takeover"})
		a.Stop()
		if got := c.take(t, 1)[0]; got.ID != id {
			t.Fatalf("taken over %s, want %s", got.ID, id)
		}
	})
	t.Run("OrderingWithinType", func(t *testing.T) {
		b := newBus(t)
		c := newCollector()
		subscribe(t, b, c.handle, event.SubscribeOptions{Group: "ord", Start: event.FromBeginning})
		const n = 200
		var ids []string
		for i := range n {
			ids = append(ids, publish(t, ctx, b, "seq", fmt.Sprint(i)))
		}
		for i, r := range c.take(t, n) {
			if r.ID != ids[i] {
				t.Fatalf("record %d is %s, want %s", i, r.ID, ids[i])
			}
		}
	})
	t.Run("Inheritance", func(t *testing.T) {
		b := newBus(t)
		c := newCollector()
		subscribe(t, b, func(ctx context.Context, r event.Record) error {
			if r.Type == "order.placed" {
				_, err := b.Publish(ctx, event.Record{Type: "order.billed"})
				return err
			}
			return c.handle(ctx, r)
		}, event.SubscribeOptions{Start: event.FromBeginning})
		root := publish(t, ctx, b, "order.placed", "")
		got := c.take(t, 1)[0]
		if got.RootID != root || got.ParentID != root {
			t.Fatalf("child root %q parent %q, want %q", got.RootID, got.ParentID, root)
		}
		rs, _, err := b.Read(ctx, event.Query{RootID: root})
		if err != nil || len(rs) != 2 {
			t.Fatalf("Read by root: %d records, %v", len(rs), err)
		}
	})
	t.Run("SlowHandlerNeverBlocksPublish", func(t *testing.T) {
		b := newBus(t)
		release := make(chan struct{})
		defer close(release)
		subscribe(t, b, func(ctx context.Context, _ event.Record) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}, event.SubscribeOptions{Start: event.FromBeginning})
		done := make(chan error, 1)
		go func() {
			for i := range 1000 {
				if _, err := b.Publish(ctx, event.Record{Type: "slow", Data: []byte(fmt.Sprint(i))}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(wait):
			t.Fatal("Publish blocked behind a handler that never returns")
		}
	})
	t.Run("LargePayload", func(t *testing.T) {
		b := newBus(t)
		c := newCollector()
		subscribe(t, b, c.handle, event.SubscribeOptions{Start: event.FromBeginning})
		big := bytes.Repeat([]byte("x"), 1<<20)
		if _, err := b.Publish(ctx, event.Record{Type: "big", Data: big}); err != nil {
			t.Fatal(err)
		}
		if got := c.take(t, 1)[0]; !bytes.Equal(got.Data, big) {
			t.Fatalf("1 MiB payload came back as %d bytes", len(got.Data))
		}
	})
	t.Run("ReadPaged", func(t *testing.T) {
		b := newBus(t)
		for i := range 7 {
			publish(t, ctx, b, fmt.Sprintf("t%d", i%2), fmt.Sprint(i))
		}
		var all []event.Record
		q := event.Query{Types: []string{"t0"}, Limit: 2}
		for {
			page, next, err := b.Read(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			q.AfterID = next
		}
		if len(all) != 4 || string(all[3].Data) != "6" {
			t.Fatalf("paged read of t0: %d records", len(all))
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		b := newBus(t)
		if _, err := b.Publish(ctx, event.Record{}); !errors.Is(err, event.ErrInvalid) || oserr.Code(err) != oserr.Invalid {
			t.Fatalf("no type: %v", err)
		}
		if _, err := b.Publish(ctx, event.Record{Type: "bad\xff"}); !errors.Is(err, event.ErrInvalid) {
			t.Fatalf("a type that is not UTF-8: %v", err)
		}
	})
	t.Run("ContextCanceled", func(t *testing.T) {
		b := newBus(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := b.Publish(cctx, event.Record{Type: "a"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Publish with canceled ctx: %v", err)
		}
		sctx, scancel := context.WithCancel(ctx)
		s, err := b.Subscribe(sctx, func(context.Context, event.Record) error { return nil }, event.SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		scancel()
		s.Stop() // returns: the subscription ended with its ctx
	})
	t.Run("Check", func(t *testing.T) {
		b := newBus(t)
		if err := b.Check(ctx); err != nil {
			t.Fatalf("Check healthy: %v", err)
		}
		publish(t, ctx, b, "a", "1")
		c := newCollector()
		s, err := b.Subscribe(ctx, c.handle, event.SubscribeOptions{Group: "g", Start: event.FromBeginning,
			OnError: func(err error) { t.Errorf("OnError on a healthy backend: %v", err) }})
		if err != nil {
			t.Fatal(err)
		}
		c.take(t, 1)
		if err := s.Check(ctx); err != nil {
			t.Fatalf("Subscription.Check healthy: %v", err)
		}
		if err := b.Check(ctx); err != nil {
			t.Fatalf("Check after a publish and a read: %v", err)
		}
		s.Stop()
		if err := s.Check(ctx); !errors.Is(err, event.ErrClosed) {
			t.Fatalf("Subscription.Check after Stop: %v, want ErrClosed", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.Check(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Check with a done ctx: %v", err)
		}
	})
	t.Run("UseAfterClose", func(t *testing.T) {
		b := newBus(t)
		subscribe(t, b, func(context.Context, event.Record) error { return nil }, event.SubscribeOptions{})
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := b.Publish(ctx, event.Record{Type: "a"}); !errors.Is(err, event.ErrClosed) {
			t.Fatalf("Publish after Close: %v", err)
		}
		if _, err := b.Subscribe(ctx, nil, event.SubscribeOptions{}); !errors.Is(err, event.ErrClosed) {
			t.Fatalf("Subscribe after Close: %v", err)
		}
		if err := b.Check(ctx); !errors.Is(err, event.ErrClosed) {
			t.Fatalf("Check after Close: %v", err)
		}
		if _, _, err := b.Read(ctx, event.Query{}); !errors.Is(err, event.ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}
		if _, err := b.DeadLetters(ctx); !errors.Is(err, event.ErrClosed) {
			t.Fatalf("DeadLetters after Close: %v", err)
		}
	})
}
