package redisevent_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

const consumerEnv = "REDISEVENT_TEST_CONSUMER"

// consumerMain is the child process of TestConsumerKilled: a member of
// the group that records every record it handles in the list <prefix>handled,
// and after stopAfter of them says "ready" and hangs in its handler with
// the rest of its batch read and unacknowledged, until it is SIGKILLed.
func consumerMain(spec string) {
	f := strings.Split(spec, "|") // addr|prefix|group|stopAfter
	stopAfter, _ := strconv.Atoi(f[3])
	c := redis.NewClient(&redis.Options{Addr: f[0]})
	bus := redisevent.New(c, redisevent.Options{Prefix: f[1], Poll: 2 * time.Millisecond})
	var n atomic.Int64
	_, err := bus.Subscribe(context.Background(), func(ctx context.Context, r event.Record) error {
		if err := c.RPush(ctx, f[1]+"handled", r.ID).Err(); err != nil {
			return err
		}
		if n.Add(1) == int64(stopAfter) {
			fmt.Println("ready")
			select {} // mid-batch: handling the next record when killed
		}
		return nil
	}, event.SubscribeOptions{Group: f[2], Start: event.FromBeginning})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	select {}
}

// A group member is SIGKILLed with records read and not acknowledged:
// another member takes them over (XAUTOCLAIM after the visibility
// timeout) and, read back from Redis, every record in the stream was
// handled at least once. Duplicates (handled, not acked) are counted.
func TestConsumerKilled(t *testing.T) {
	addr := testenv.Redis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	p := prefix()
	stream, handledKey := p+"{job}", p+"handled"
	defer c.Del(ctx, stream, handledKey, p+"types", p+"dead")
	const n, group = 300, "workers"
	pub := redisevent.New(c, redisevent.Options{Prefix: p})
	recs := make([]event.Record, n)
	for i := range recs {
		recs[i] = event.Record{Type: "job", Data: []byte(strconv.Itoa(i))}
	}
	if _, err := pub.PublishBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), consumerEnv+"="+strings.Join([]string{addr, p, group, "20"}, "|"))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("consumer: %q %v", line, err)
	}
	pending, err := c.XPending(ctx, stream, group).Result()
	if err != nil || pending.Count == 0 {
		t.Fatalf("XPENDING before the kill: %+v %v: the consumer holds nothing in flight", pending, err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()

	taker := redisevent.New(c, redisevent.Options{Prefix: p, Visibility: 200 * time.Millisecond, Poll: 2 * time.Millisecond})
	defer taker.Close()
	s, err := taker.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
		return c.RPush(ctx, handledKey, r.ID).Err()
	}, event.SubscribeOptions{Group: group})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	all, err := c.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(all) != n {
		t.Fatalf("XRANGE: %d entries, %v", len(all), err)
	}
	var handled []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		handled, err = c.LRange(ctx, handledKey, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		left, err := c.XPending(ctx, stream, group).Result()
		if err != nil {
			t.Fatal(err)
		}
		if left.Count == 0 && len(handled) >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: %d handled, %d still pending", len(handled), left.Count)
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]int{}
	for _, id := range handled {
		seen[id]++
	}
	for _, m := range all {
		if seen[m.ID] == 0 {
			t.Errorf("record %s (%v) was never handled", m.ID, m.Values)
		}
		delete(seen, m.ID)
	}
	if len(seen) > 0 {
		t.Errorf("handled ids that are not in the stream: %v", seen)
	}
	t.Logf("%d records, %d in flight at the kill, %d handlings: %d duplicates", n, pending.Count, len(handled), len(handled)-n)
}

// Redis is SIGKILLed under a publish load with appendfsync always and
// restarted from its AOF: every Publish that returned an id is in the
// stream (XRANGE), every call during the outage failed with
// ErrUnavailable, and a group subscriber resumed from its position and
// handled every record in the stream.
func TestRedisRestartedWithAOF(t *testing.T) {
	addr, dir := testenv.FreePort(t), t.TempDir()
	aof := []string{"--appendonly", "yes", "--appendfsync", "always"}
	srv := testenv.StartRedisWith(t, addr, dir, aof...)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	p := prefix()
	bus := redisevent.New(c, redisevent.Options{Prefix: p, Visibility: time.Second, Poll: 2 * time.Millisecond},
		event.WithRetry(5*time.Millisecond, 100*time.Millisecond))
	defer bus.Close()
	ctx := context.Background()

	var mu sync.Mutex
	got := map[string]bool{}
	var acked []string
	var failed int
	s, err := bus.Subscribe(ctx, func(_ context.Context, r event.Record) error {
		mu.Lock()
		got[r.ID] = true
		mu.Unlock()
		return nil
	}, event.SubscribeOptions{Group: "g", Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if _, err := bus.Publish(ctx, event.Record{Type: "job"}); err != nil { // the stream and the group exist before the load
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ackedN, failedN atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				id, err := bus.Publish(cctx, event.Record{Type: "job", Data: []byte("x")})
				cancel()
				mu.Lock()
				if err == nil {
					acked = append(acked, id)
					ackedN.Add(1)
				} else {
					failed++
					failedN.Add(1)
					if !errors.Is(err, event.ErrUnavailable) {
						t.Errorf("Publish during the outage: %v, want ErrUnavailable", err)
					}
				}
				mu.Unlock()
			}
		})
	}
	waitUntil(t, "200 publishes before the kill", func() bool { return ackedN.Load() >= 200 })
	srv.Process.Kill()
	srv.Wait()
	before := ackedN.Load()
	waitUntil(t, "publishes to fail while Redis is down", func() bool { return failedN.Load() >= 4 })
	// A Publish answered just before the kill can be recorded after the
	// first failures: Check reports the latest outcome, so wait for it.
	waitUntil(t, "Check to report the outage", func() bool { return bus.Check(ctx) != nil })
	if err := bus.Check(ctx); !errors.Is(err, event.ErrUnavailable) {
		t.Errorf("Check while Redis is down: %v, want ErrUnavailable", err)
	}
	waitUntil(t, "the subscriber to see the outage", func() bool { return s.Check(ctx) != nil })
	if err := s.Check(ctx); !errors.Is(err, event.ErrUnavailable) {
		t.Errorf("Subscription.Check while Redis is down: %v, want ErrUnavailable", err)
	}
	testenv.StartRedisWith(t, addr, dir, aof...)
	waitUntil(t, "200 publishes after the restart", func() bool { return ackedN.Load() >= before+200 })
	close(stop)
	wg.Wait()
	waitUntil(t, "Check to report the restart", func() bool { return bus.Check(ctx) == nil && s.Check(ctx) == nil })

	ms, err := c.XRange(ctx, p+"{job}", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, m := range ms {
		stored[m.ID] = true
	}
	mu.Lock()
	lost := slices.DeleteFunc(slices.Clone(acked), func(id string) bool { return stored[id] })
	t.Logf("%d acknowledged (%d before the kill), %d failed during the outage, %d in the stream", len(acked), before, failed, len(ms))
	mu.Unlock()
	if len(lost) > 0 {
		t.Fatalf("%d acknowledged publishes lost by the restart: %v", len(lost), lost[:min(len(lost), 10)])
	}
	waitUntil(t, "the subscriber to handle every record in the stream", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := range stored {
			if !got[id] {
				return false
			}
		}
		return true
	})
}

// waitUntil polls cond (it reads the backend or the test's own state)
// for at most 30s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("waited %s for %s", time.Since(start), what) }()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With persistence off a restart loses the streams and the groups: the
// subscription makes its group again and handles what is published after.
func TestRedisRestartedWithoutPersistence(t *testing.T) {
	addr, dir := testenv.FreePort(t), t.TempDir()
	srv := testenv.StartRedisWith(t, addr, dir, "--appendonly", "no")
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	bus := redisevent.New(c, redisevent.Options{Prefix: prefix(), Poll: 2 * time.Millisecond}, event.WithRetry(5*time.Millisecond, 50*time.Millisecond))
	defer bus.Close()
	ctx := context.Background()
	got := make(chan string, 10)
	s, err := bus.Subscribe(ctx, func(_ context.Context, r event.Record) error { got <- string(r.Data); return nil },
		event.SubscribeOptions{Group: "g", Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	for _, data := range []string{"before", "after"} {
		if data == "after" {
			srv.Process.Kill()
			srv.Wait()
			waitUntil(t, "the subscriber to see the outage", func() bool { return s.Check(ctx) != nil })
			testenv.StartRedisWith(t, addr, dir, "--appendonly", "no")
		}
		if _, err := bus.Publish(ctx, event.Record{Type: "job", Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-got:
			if d != data {
				t.Fatalf("handled %q, want %q", d, data)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%q not handled within 30s", data)
		}
	}
}
