package memcachekv_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtest"
	"github.com/microos/go-os/kv/memcachekv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	addrs := testenv.Memcached(t)
	kvtest.Run(t, kvtest.Harness{
		New: func(t *testing.T, opts ...kv.Option) kv.Store {
			s, err := memcachekv.New(addrs, nil, opts...)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		TTLResolution: time.Second,
		Outage: func(t *testing.T) (kv.Store, func(), func()) {
			p := testenv.NewProxy(t, addrs[0])
			p.Start()
			s, err := memcachekv.New([]string{p.Addr()}, []memcachekv.Option{memcachekv.WithTimeout(300 * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			return s, p.Stop, p.Start
		},
		Unreachable: func(t *testing.T) kv.Store {
			s, err := memcachekv.New([]string{testenv.FreePort(t)}, []memcachekv.Option{memcachekv.WithTimeout(200 * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	u := "memcache://" + strings.Join(testenv.Memcached(t), ",") + "?timeout=1s&max_idle=8&namespace=open-test:"
	s, err := kv.Open(ctx, u)
	if err != nil {
		t.Fatalf("Open(%q): %v", u, err)
	}
	defer s.Close()
	if err := s.Set(ctx, kv.Item{Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(ctx, "k"); err != nil || string(it.Value) != "v" {
		t.Fatalf("Get = %q, %v", it.Value, err)
	}
	for _, bad := range []string{"memcache://127.0.0.1:1?timeout=soon", "memcache://127.0.0.1:1?max_idle=-1", "memcache://", "memcache://127.0.0.1:1?timeuot=1s"} {
		if s, err := kv.Open(ctx, bad); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

// With one of two servers down, the keys the live one owns are still
// served; the others fail as unavailable, not as missing.
func TestOneServerDown(t *testing.T) {
	ctx := context.Background()
	live := testenv.Memcached(t)[0]
	dead := testenv.FreePort(t)
	s, err := memcachekv.New([]string{live, dead}, []memcachekv.Option{memcachekv.WithTimeout(200 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sel, _ := memcachekv.NewSelector(live, dead)
	var served, down int
	for i := 0; i < 200; i++ {
		k := "one-down-" + strconv.Itoa(i)
		addr, _ := sel.PickServer(k)
		err := s.Set(ctx, kv.Item{Key: k, Value: []byte("v")})
		if addr.String() == live {
			if err != nil {
				t.Fatalf("Set(%q) on the live server: %v", k, err)
			}
			if _, err := s.Get(ctx, k); err != nil {
				t.Fatalf("Get(%q) on the live server: %v", k, err)
			}
			served++
			continue
		}
		if !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("Set(%q) on the dead server: %v, want ErrUnavailable", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("Get(%q) on the dead server: %v, want ErrUnavailable", k, err)
		}
		down++
	}
	if served < 50 || down < 50 {
		t.Fatalf("keys split %d live / %d dead: the ring does not use both servers", served, down)
	}
}

func TestTooLarge(t *testing.T) {
	s, err := memcachekv.New(testenv.Memcached(t)[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Set(context.Background(), kv.Item{Key: "too-large", Value: make([]byte, 3<<20)})
	if !errors.Is(err, kv.ErrTooLarge) {
		t.Fatalf("Set of 3 MiB (server limit 2 MiB): %v, want ErrTooLarge", err)
	}
}

// As reaches the gomemcache client behind the Store.
func TestAsReachesTheClient(t *testing.T) {
	s, err := memcachekv.New(testenv.Memcached(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var c *memcache.Client
	if !s.As(&c) || c == nil {
		t.Fatal("As(*memcache.Client) = false")
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
}
