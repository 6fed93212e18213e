package redisevent_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/eventtest"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(consumerEnv); spec != "" {
		consumerMain(spec) // the consumer a failure test kills; never returns
	}
	goleak.VerifyTestMain(m)
}

func prefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "evtest:" + hex.EncodeToString(b[:]) + ":"
}

func opts() redisevent.Options {
	return redisevent.Options{Prefix: prefix(), Visibility: 10 * time.Second, Poll: 2 * time.Millisecond}
}

func TestRedis(t *testing.T) {
	addr := testenv.Redis(t)
	eventtest.Run(t, func(t *testing.T) *event.Bus {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		b := redisevent.New(c, opts(), event.WithService("orders", "1.0", "i-1"))
		t.Cleanup(func() { b.Close(); c.Close() })
		return b
	})
}

func TestRedisCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t)
	eventtest.Run(t, func(t *testing.T) *event.Bus {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
		b := redisevent.New(c, opts(), event.WithService("orders", "1.0", "i-1"))
		t.Cleanup(func() { b.Close(); c.Close() })
		return b
	})
}

func TestOpen(t *testing.T) {
	addr := testenv.Redis(t)
	b, err := event.Open(context.Background(), "redis://"+addr+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := event.Open(context.Background(), "redis://"+addr+"/0?nope=1"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown parameter: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	b, err := event.Open(context.Background(), "redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := b.Publish(ctx, event.Record{Type: "a"}); !errorsIs(err, event.ErrUnavailable) {
		t.Fatalf("Publish to a closed port: %v, want ErrUnavailable", err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// Retention by length (MAXLEN ~) and by age (MINID ~) bounds each type's
// stream, read back with XLEN; both are approximate (Redis trims whole
// nodes: 100 entries or 4 KB).
func TestRetention(t *testing.T) {
	addr := testenv.Redis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	for _, tc := range []struct {
		name string
		url  string
		min  int64
		max  int64
	}{
		{"MaxLen", "maxlen=10", 10, 200},
		{"MaxAge", "maxage=1ms", 1, 299},
		{"None", "", 300, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := prefix()
			defer c.Del(ctx, p+"{job}", p+"types")
			b, err := event.Open(ctx, "redis://"+addr+"/0?prefix="+p+"&"+tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			for i := range 300 { // one round trip each: the last is over 1ms after the first node's
				if _, err := b.Publish(ctx, event.Record{Type: "job", Data: []byte(strconv.Itoa(i))}); err != nil {
					t.Fatal(err)
				}
			}
			n, err := c.XLen(ctx, p+"{job}").Result()
			if err != nil || n > tc.max || n < tc.min {
				t.Fatalf("XLEN = %d %v, want %d..%d", n, err, tc.min, tc.max)
			}
		})
	}
	if _, err := event.Open(ctx, "redis://"+addr+"/0?maxage=soon"); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("maxage=soon: %v, want ErrInvalid", err)
	}
}
