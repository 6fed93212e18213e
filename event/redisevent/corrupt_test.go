package redisevent_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

// Entries another client XADDs to a type's stream (no "r" field, not
// JSON, another type's record) are reported to OnError as ErrCorrupt and
// skipped; a group moves them to the dead-letter stream and acknowledges
// them; the records around them are handled, in order. Unknown fields
// in a record (a newer publisher's) are ignored, not an error.
func TestGarbageEntries(t *testing.T) {
	addr := testenv.Redis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	o := opts()
	stream := o.Prefix + "{job}"
	defer c.Del(ctx, stream, o.Prefix+"types", o.Prefix+"dead")
	bus := redisevent.New(c, o)
	defer bus.Close()

	first, err := bus.Publish(ctx, event.Record{Type: "job", Data: []byte("0")})
	if err != nil {
		t.Fatal(err)
	}
	garbage := [][]any{
		{"x", "no r field"},
		{"r", "not json"},
		{"r", `{"t":"other.type","d":"MQ=="}`},
	}
	var bad []string
	for _, v := range garbage {
		id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: v}).Result()
		if err != nil {
			t.Fatal(err)
		}
		bad = append(bad, id)
	}
	newer, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"r", `{"t":"job","d":"MQ==","future":{"x":1}}`}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	last, err := bus.Publish(ctx, event.Record{Type: "job", Data: []byte("2")})
	if err != nil {
		t.Fatal(err)
	}

	for _, group := range []string{"", "g"} {
		var mu sync.Mutex
		var reported []error
		got := make(chan event.Record, 10)
		s, err := bus.Subscribe(ctx, func(_ context.Context, r event.Record) error { got <- r; return nil },
			event.SubscribeOptions{Group: group, Start: event.FromBeginning, OnError: func(err error) {
				mu.Lock()
				reported = append(reported, err)
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{first, newer, last} {
			select {
			case r := <-got:
				if r.ID != want {
					t.Fatalf("group %q: record %d = %s %q, want %s", group, i, r.ID, r.Data, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("group %q: record %d not handled: garbage stopped the subscription", group, i)
			}
		}
		s.Stop()
		mu.Lock()
		if len(reported) != len(bad) {
			t.Fatalf("group %q: %d errors reported, want %d: %v", group, len(reported), len(bad), reported)
		}
		for i, err := range reported {
			if !errors.Is(err, event.ErrCorrupt) || !strings.Contains(err.Error(), bad[i]) {
				t.Errorf("group %q: report %d = %v, want ErrCorrupt naming %s", group, i, err, bad[i])
			}
		}
		mu.Unlock()
	}
	pending, err := c.XPending(ctx, stream, "g").Result()
	if err != nil || pending.Count != 0 {
		t.Fatalf("XPENDING: %+v %v: garbage left unacknowledged", pending, err)
	}
	dead, err := bus.DeadLetters(ctx)
	if err != nil || len(dead) != len(bad) {
		t.Fatalf("dead letters: %d %v, want %d", len(dead), err, len(bad))
	}
	for i, d := range dead {
		if d.Record.ID != bad[i] || d.Group != "g" || d.Record.Metadata["event-corrupt"] != "true" || !strings.Contains(d.Err, "stored record unreadable") {
			t.Errorf("dead letter %d = %+v", i, d)
		}
	}
	if !strings.Contains(string(dead[1].Record.Data), "not json") {
		t.Errorf("the dead letter lost the entry's fields: %s", dead[1].Record.Data)
	}
}
