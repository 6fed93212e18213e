package event_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microos/go-os/event"
)

func Example() {
	ctx := context.Background()
	bus, _ := event.Open(ctx, "mem://")
	defer bus.Close()
	done := make(chan struct{})
	sub, _ := bus.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
		type changed struct{ Key string }
		c, err := event.Decode[changed](r)
		if err != nil {
			return err
		}
		fmt.Println(r.Type, c.Key)
		close(done)
		return nil
	}, event.SubscribeOptions{Types: []string{"config.*"}, Group: "billing"})
	defer sub.Stop()
	event.PublishJSON(ctx, bus, "user.created", struct{ Name string }{"alice"})
	event.PublishJSON(ctx, bus, "config.changed", struct{ Key string }{"rate"})
	<-done
	// Output: config.changed rate
}

func ExampleBus_Read() {
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	root, _ := bus.Publish(ctx, event.Record{Type: "order.placed"})
	bus.Publish(ctx, event.Record{Type: "order.placed"})
	recs, next, _ := bus.Read(ctx, event.Query{RootID: root})
	fmt.Println(len(recs), recs[0].ID == root, next == "")
	// Output: 1 true true
}

// A subscription reports what it survives (a backend down, an entry that
// is not a record) to OnError, and its health to Check, which a monitor
// can poll without a round trip.
func ExampleSubscription_Check() {
	ctx := context.Background()
	bus := event.NewMemory(event.WithRetry(50*time.Millisecond, 5*time.Second))
	defer bus.Close()
	sub, _ := bus.Subscribe(ctx, func(context.Context, event.Record) error { return nil },
		event.SubscribeOptions{Group: "audit", OnError: func(err error) { fmt.Println("survived:", err) }})
	fmt.Println(sub.Check(ctx), bus.Check(ctx))
	sub.Stop()
	fmt.Println(errors.Is(sub.Check(ctx), event.ErrClosed))
	// Output:
	// <nil> <nil>
	// true
}
