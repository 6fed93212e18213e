package redisevent

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
)

// close sends what is still queued: here nothing else could, the acker's
// goroutine never ran.
func TestAckerCloseSendsWhatIsQueued(t *testing.T) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer c.Close()
	stream := "evtest:acker:" + t.Name()
	defer c.Del(ctx, stream)
	if err := c.XGroupCreateMkStream(ctx, stream, "g", "$").Err(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"r", "x"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{stream, ">"}, Count: 10}).Result()
	if err != nil || len(res) != 1 || len(res[0].Messages) != 10 {
		t.Fatalf("XREADGROUP: %v %v", res, err)
	}
	a := &acker{c: c, group: "g", observe: func(error) {}, pending: map[string][]string{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	close(a.done) // no goroutine: close alone must send
	for _, m := range res[0].Messages {
		a.add(stream, m.ID)
	}
	if err := a.close(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := c.XPending(ctx, stream, "g").Result(); err != nil || p.Count != 0 {
		t.Fatalf("XPENDING after close: %+v %v", p, err)
	}
}
