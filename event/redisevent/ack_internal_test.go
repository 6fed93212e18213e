package redisevent

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
)

// close sends what is still queued: here nothing else could, the acker's
// goroutine never ran.
func TestAckerCloseSendsWhatIsQueued(t *testing.T) {
	ctx := context.Background()
	c, stream, res := tenPending(t)
	a := &acker{c: c, group: "g", observe: func(error) {}, pending: map[string][]string{},
		timer: time.NewTimer(time.Hour), stop: make(chan struct{}), done: make(chan struct{})}
	a.timer.Stop()
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

// The acker sends on its own, ackDelay after an Ack, without waiting for
// close: a long-lived subscription leaves nothing pending.
func TestAckerSendsWithoutClose(t *testing.T) {
	ctx := context.Background()
	c, stream, res := tenPending(t)
	a := newAcker(c, "g", func(error) {}, time.Millisecond, 10*time.Millisecond)
	defer a.close(ctx)
	for i, m := range res[0].Messages {
		a.add(stream, m.ID)
		if i == 4 { // two rounds: the timer is set again after a flush
			waitPending(t, c, stream, 5)
		}
	}
	waitPending(t, c, stream, 0)
}

// waitPending polls XPENDING until it is want, for up to 10 s.
func waitPending(t *testing.T, c *redis.Client, stream string, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := c.XPending(context.Background(), stream, "g").Result()
		if err != nil {
			t.Fatal(err)
		}
		if p.Count == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("XPENDING stayed at %d, want %d: the acker did not send", p.Count, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// tenPending is a stream with ten records read by group g and not yet
// acknowledged; the stream is deleted at the end of the test.
func tenPending(t *testing.T) (*redis.Client, string, []redis.XStream) {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	t.Cleanup(func() { c.Close() })
	stream := "evtest:acker:" + t.Name()
	t.Cleanup(func() { c.Del(ctx, stream) })
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
	return c, stream, res
}
