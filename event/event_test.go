package event_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/event"
)

func TestOpenRefusesParameters(t *testing.T) {
	for _, u := range []string{"mem://?x=1", "mem://host", "nope://"} {
		if _, err := event.Open(context.Background(), u); err == nil {
			t.Errorf("Open(%q) = nil error", u)
		}
	}
}

// Open takes the options New does, on every scheme.
func TestOpenTakesOptions(t *testing.T) {
	ctx := context.Background()
	b, err := event.Open(ctx, "mem://", event.WithService("greeter", "v1", "greeter-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Publish(ctx, event.Record{Type: "greeting.sent"}); err != nil {
		t.Fatal(err)
	}
	recs, _, err := b.Read(ctx, event.Query{Types: []string{"greeting.sent"}})
	if err != nil || len(recs) != 1 {
		t.Fatalf("Read: %v, %v", recs, err)
	}
	if want := (event.Origin{Service: "greeter", Version: "v1", Instance: "greeter-1"}); recs[0].Origin != want {
		t.Fatalf("Origin = %+v, want %+v (from Open's WithService)", recs[0].Origin, want)
	}
}

func TestDedupe(t *testing.T) {
	now := time.Unix(0, 0)
	var calls atomic.Int32
	fail := true
	h := event.Dedupe(time.Minute, func() time.Time { return now }, func(context.Context, event.Record) error {
		calls.Add(1)
		if fail {
			fail = false
			return errors.New("once")
		}
		return nil
	})
	r := event.Record{ID: "1-0"}
	ctx := context.Background()
	if h(ctx, r) == nil {
		t.Fatal("first attempt should fail")
	}
	h(ctx, r) // a failed attempt is not remembered: handled again
	h(ctx, r) // a duplicate within the window: skipped
	if calls.Load() != 2 {
		t.Fatalf("calls = %d, want 2", calls.Load())
	}
	now = now.Add(time.Minute)
	h(ctx, r)
	if calls.Load() != 3 {
		t.Fatalf("after the window calls = %d, want 3", calls.Load())
	}
}

func TestConcurrencyRunsHandlersAtOnce(t *testing.T) {
	b := event.NewMemory()
	defer b.Close()
	ctx := context.Background()
	both := make(chan struct{})
	var in atomic.Int32
	sub, err := b.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
		if in.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-ctx.Done():
		}
		return nil
	}, event.SubscribeOptions{Concurrency: 2, Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	b.Publish(ctx, event.Record{Type: "a"})
	b.Publish(ctx, event.Record{Type: "a"})
	select {
	case <-both:
	case <-time.After(10 * time.Second):
		t.Fatal("two handlers never ran at once with Concurrency 2")
	}
}

func TestRetention(t *testing.T) {
	now := time.Unix(1000, 0)
	b := event.NewMemory(event.WithRetention(3, time.Minute), event.WithClock(func() time.Time { return now }))
	defer b.Close()
	ctx := context.Background()
	for i := range 5 {
		b.Publish(ctx, event.Record{Type: "a", Data: []byte{byte('0' + i)}})
	}
	rs, _, _ := b.Read(ctx, event.Query{})
	if len(rs) != 3 || string(rs[0].Data) != "2" {
		t.Fatalf("by length: %d records, first %q", len(rs), rs[0].Data)
	}
	now = now.Add(2 * time.Minute)
	b.Publish(ctx, event.Record{Type: "a", Data: []byte("new")})
	rs, _, _ = b.Read(ctx, event.Query{})
	if len(rs) != 1 || string(rs[0].Data) != "new" {
		t.Fatalf("by age: %d records", len(rs))
	}
	got := make(chan string, 8)
	sub, _ := b.Subscribe(ctx, func(_ context.Context, r event.Record) error { got <- string(r.Data); return nil },
		event.SubscribeOptions{Start: event.FromBeginning})
	defer sub.Stop()
	if d := <-got; d != "new" {
		t.Fatalf("replay after trim starts at %q", d)
	}
}

var registered atomic.Int64

func TestRegister(t *testing.T) {
	boom := errors.New("boom")
	scheme := fmt.Sprintf("eventtest-fail%d", registered.Add(1)) // -count=N runs it again
	event.Register(scheme, func(context.Context, *url.URL) (event.Driver, error) { return nil, boom })
	if _, err := event.Open(context.Background(), scheme+"://x"); !errors.Is(err, boom) {
		t.Fatalf("Open of a registered scheme: %v, want the opener's error", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a taken scheme did not panic")
		}
	}()
	event.Register("mem", func(context.Context, *url.URL) (event.Driver, error) { return nil, boom })
}

// PublishBatch fills Origin in what it stores, never in the caller's slice;
// WithPublishTimeout bounds a Publish whose ctx has no deadline.
func TestPublishBatchLeavesCallersRecords(t *testing.T) {
	bus := event.NewMemory(event.WithService("svc", "1", "i"), event.WithPublishTimeout(time.Hour))
	defer bus.Close()
	ctx := context.Background()
	recs := []event.Record{{Type: "a"}, {Type: "b", Origin: event.Origin{Service: "own"}}}
	if _, err := bus.PublishBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if recs[0].Origin != (event.Origin{}) || recs[0].ID != "" {
		t.Fatalf("the caller's record was written: %+v", recs[0])
	}
	got, _, err := bus.Read(ctx, event.Query{})
	if err != nil || len(got) != 2 || got[0].Origin.Service != "svc" || got[1].Origin.Service != "own" {
		t.Fatalf("stored %+v, %v", got, err)
	}
	expired := event.NewMemory(event.WithPublishTimeout(time.Nanosecond))
	defer expired.Close()
	if _, err := expired.Publish(ctx, event.Record{Type: "a"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish past its timeout: %v", err)
	}
}
