package rediskv_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtest"
	"github.com/microos/go-os/kv/rediskv"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // the unreachable-backend tests would fill the log with dial errors
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func unreachable(t *testing.T) kv.Store {
	s, err := kv.Open(context.Background(), "redis://"+testenv.FreePort(t)+"/0?dial_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hung(t *testing.T) kv.Store {
	s, err := kv.Open(context.Background(), "redis://"+testenv.Hung(t)+"/0")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStandaloneConformance(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: testenv.Redis(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	kvtest.Run(t, kvtest.Harness{
		New:         func(t *testing.T, opts ...kv.Option) kv.Store { return rediskv.New(client, opts...) },
		Unreachable: unreachable,
		Hung:        hung,
		Outage: func(t *testing.T) (kv.Store, func(), func()) {
			p := testenv.NewProxy(t, testenv.Redis(t))
			p.Start()
			s, err := kv.Open(context.Background(), "redis://"+p.Addr()+"/0?dial_timeout=200ms")
			if err != nil {
				t.Fatal(err)
			}
			return s, p.Stop, p.Start
		},
	})
}

func TestClusterConformance(t *testing.T) {
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.RedisCluster(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	kvtest.Run(t, kvtest.Harness{
		New:         func(t *testing.T, opts ...kv.Option) kv.Store { return rediskv.New(client, opts...) },
		Unreachable: unreachable,
	})
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	cluster := testenv.RedisCluster(t)
	for _, u := range []string{
		"redis://" + testenv.Redis(t) + "/0?namespace=open-test:",
		"redis+cluster://" + cluster[0] + "," + cluster[1] + "?namespace=open-test:",
		"redis+cluster://" + cluster[0] + "?addr=" + cluster[1] + "&namespace=open-test:",
	} {
		s, err := kv.Open(ctx, u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if err := s.Set(ctx, kv.Item{Key: "k", Value: []byte(u)}); err != nil {
			t.Fatalf("%s: Set: %v", u, err)
		}
		if it, err := s.Get(ctx, "k"); err != nil || string(it.Value) != u {
			t.Fatalf("%s: Get = %q, %v", u, it.Value, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("%s: Close: %v", u, err)
		}
	}
	if _, err := kv.Open(ctx, "redis://127.0.0.1:1/notadb"); err == nil {
		t.Fatal("Open accepted a bad db number")
	}
	for _, bad := range []string{"redis://127.0.0.1:1/0?dial_timeuot=1s", "redis+cluster://127.0.0.1:1?bogus=1", "rediss://127.0.0.1:1/0?namespace=a:&x=1"} {
		if s, err := kv.Open(ctx, bad); err == nil {
			s.Close()
			t.Errorf("Open(%q) accepted an unknown parameter", bad)
		}
	}
	// rediss:// makes a TLS client; nothing listens, so calls are unavailable.
	s, err := kv.Open(ctx, "rediss://"+testenv.FreePort(t)+"/0")
	if err != nil {
		t.Fatalf("Open(rediss://): %v", err)
	}
	defer s.Close()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("rediss Get with nothing listening: %v", err)
	}
}

// A key that another client wrote without the header is an error, never a
// value with the first 17 bytes eaten.
func TestForeignValue(t *testing.T) {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer client.Close()
	client.Set(ctx, "rediskv-test-foreign", "plain text written elsewhere", time.Minute)
	s := rediskv.New(client)
	_, err := s.Get(ctx, "rediskv-test-foreign")
	if !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("Get of a foreign value: %v, want ErrCorrupt", err)
	}
	if _, err := s.GetMulti(ctx, []string{"rediskv-test-foreign"}); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("GetMulti of a foreign value: %v, want ErrCorrupt", err)
	}
	// CAS must not take the first bytes of a foreign value for a version.
	err = s.CompareAndSwap(ctx, kv.Item{Key: "rediskv-test-foreign", Value: []byte("x"), Version: 1})
	if !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("CAS over a foreign value: %v, want ErrCorrupt", err)
	}
	client.RPush(ctx, "rediskv-test-list", "a")
	client.Expire(ctx, "rediskv-test-list", time.Minute)
	if _, err := s.Get(ctx, "rediskv-test-list"); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("Get of a list: %v, want ErrCorrupt", err)
	}
}

// roundTrips counts the round trips that carry reads (GET, MGET) on each
// node's connections; connection handshakes do not count.
type roundTrips struct{ n atomic.Int64 }

func isRead(cmd redis.Cmder) bool { return cmd.Name() == "get" || cmd.Name() == "mget" }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if isRead(cmd) {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && isRead(cmds[0]) {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

func hundredKeys(t *testing.T, s kv.Store) []string {
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "rediskv-rt-" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		if err := s.Set(context.Background(), kv.Item{Key: keys[i], Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestGetMultiIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	rt := &roundTrips{}
	client := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer client.Close()
	s := rediskv.New(client)
	keys := hundredKeys(t, s)
	client.AddHook(rt)
	got, err := s.GetMulti(ctx, keys)
	if err != nil || len(got) != 100 {
		t.Fatalf("GetMulti: %d items, %v", len(got), err)
	}
	if n := rt.n.Load(); n != 1 {
		t.Fatalf("GetMulti of 100 keys took %d round trips, want 1", n)
	}
}

func TestClusterGetMultiIsOneRoundTripPerMaster(t *testing.T) {
	ctx := context.Background()
	rt := &roundTrips{}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.RedisCluster(t)})
	defer client.Close()
	s := rediskv.New(client)
	keys := hundredKeys(t, s)
	client.ForEachShard(ctx, func(ctx context.Context, shard *redis.Client) error {
		shard.AddHook(rt)
		return nil
	})
	got, err := s.GetMulti(ctx, keys)
	if err != nil || len(got) != 100 {
		t.Fatalf("GetMulti: %d items, %v", len(got), err)
	}
	if n := rt.n.Load(); n != 3 {
		t.Fatalf("GetMulti of 100 keys over 3 masters took %d round trips, want 3", n)
	}
}

// As reaches the go-redis client behind the Store, Open's as New's.
func TestAsReachesTheClient(t *testing.T) {
	ctx := context.Background()
	s, err := kv.Open(ctx, "redis://"+testenv.Redis(t)+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var c *redis.Client
	if !s.As(&c) || c == nil {
		t.Fatal("As(*redis.Client) = false")
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var u redis.UniversalClient
	if !s.As(&u) || u != redis.UniversalClient(c) {
		t.Fatal("As(redis.UniversalClient) did not give the same client")
	}
	var cc *redis.ClusterClient
	if s.As(&cc) {
		t.Fatal("As(*redis.ClusterClient) = true on a standalone client")
	}
	var other int
	if s.As(&other) {
		t.Fatal("As(*int) = true")
	}
	if kv.NewMemory().As(&c) {
		t.Fatal("the memory store has no client")
	}
}

// WithLogger: the Store logs the backend failing and answering again.
func TestLogsOutageAndRecovery(t *testing.T) {
	p := testenv.NewProxy(t, testenv.Redis(t))
	p.Start()
	var buf syncBuffer
	s, err := kv.Open(context.Background(), "redis://"+p.Addr()+"/0?dial_timeout=200ms",
		kv.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	key := "rediskv-log-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := s.Set(ctx, kv.Item{Key: key, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if _, err := s.Get(ctx, key); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Get with Redis cut: %v", err)
	}
	if !strings.Contains(buf.String(), "kv: backend failing") || !strings.Contains(buf.String(), "system=redis") {
		t.Fatalf("no failure logged: %q", buf.String())
	}
	p.Start()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := s.Get(ctx, key); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(buf.String(), "kv: backend answering again") {
		t.Fatalf("no recovery logged: %q", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
