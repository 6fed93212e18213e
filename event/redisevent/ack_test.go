package redisevent_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

// Acknowledgements leave the handler's path, but none is lost: once Stop
// returns, Redis has every handled record acknowledged (XPENDING reads 0)
// and no record was handled twice.
func TestAcksReachRedisByStop(t *testing.T) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), ContextTimeoutEnabled: true})
	defer c.Close()
	o := opts()
	bus := redisevent.New(c, o)
	defer bus.Close()
	const n = 500
	recs := make([]event.Record, n)
	for i := range recs {
		recs[i] = event.Record{Type: "acked", Data: []byte{byte(i)}}
	}
	if _, err := bus.PublishBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	all := make(chan struct{})
	s, err := bus.Subscribe(ctx, func(_ context.Context, r event.Record) error {
		seen[r.ID]++ // one worker: no lock needed
		if len(seen) == n {
			close(all)
		}
		return nil
	}, event.SubscribeOptions{Group: "g", Types: []string{"acked"}, Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	<-all
	s.Stop()
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("%s handled %d times", id, k)
		}
	}
	p, err := c.XPending(ctx, o.Prefix+"{acked}", "g").Result()
	if err != nil || p.Count != 0 {
		t.Fatalf("XPENDING after Stop: %+v, %v", p, err)
	}
}

// A group that disappears under a running subscription (FLUSHALL, a
// restart without persistence) answers the XACK of a record in flight
// with NOGROUP: the subscription makes the group again, is healthy again,
// and by Stop every record it handled since is acknowledged.
func TestAcksOfALostGroupAreLetGo(t *testing.T) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), ContextTimeoutEnabled: true})
	defer c.Close()
	o := opts()
	o.Block = 20 * time.Millisecond
	bus := redisevent.New(c, o)
	defer bus.Close()
	stream := o.Prefix + "{lost}"
	got := make(chan string, 16)
	release := make(chan struct{})
	s, err := bus.Subscribe(ctx, func(_ context.Context, r event.Record) error {
		got <- string(r.Data)
		if string(r.Data) == "first" {
			<-release // the group goes away while this record is in flight
		}
		return nil
	}, event.SubscribeOptions{Group: "g", Types: []string{"lost"}, Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if _, err := bus.Publish(ctx, event.Record{Type: "lost", Data: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	if d := <-got; d != "first" {
		t.Fatalf("got %q", d)
	}
	if err := c.XGroupDestroy(ctx, stream, "g").Err(); err != nil {
		t.Fatal(err)
	}
	close(release) // its XACK gets NOGROUP
	if _, err := bus.Publish(ctx, event.Record{Type: "lost", Data: []byte("second")}); err != nil {
		t.Fatal(err)
	}
	for d := range got { // the group is made again from the stream's start
		if d == "second" {
			break
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.Check(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("still unhealthy: %v", s.Check(ctx))
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Stop()
	p, err := c.XPending(ctx, stream, "g").Result()
	if err != nil || p.Count != 0 {
		t.Fatalf("XPENDING after Stop: %+v, %v", p, err)
	}
}
