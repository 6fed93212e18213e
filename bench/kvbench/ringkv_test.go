package kvbench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

// ringOf starts count instances of ringkv on loopback HTTP servers.
func ringOf(t *testing.T, count int, opts ...ringkv.Option) []*ringkv.Ring {
	t.Helper()
	urls := make([]string, count)
	// Set once the instance exists; peers may call it before (New starts
	// the ring's goroutines), hence atomic.
	handlers := make([]atomic.Pointer[http.Handler], count)
	for i := range urls {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := handlers[i].Load()
			if h == nil {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			(*h).ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		urls[i] = srv.URL
	}
	rings := make([]*ringkv.Ring, count)
	for i := range rings {
		r, err := ringkv.New(urls[i], urls, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		rings[i] = r
		h := r.Handler()
		handlers[i].Store(&h)
	}
	for _, r := range rings {
		if err := r.Settle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return rings
}

// heldBy writes keys through s until one lands on holder (N=1), and
// returns it.
func heldBy(t *testing.T, s kv.Store, holder *ringkv.Ring, prefix string) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		before := holder.Stats().Keys
		if err := s.Set(context.Background(), kv.Item{Key: k, Value: value}); err != nil {
			t.Fatal(err)
		}
		if holder.Stats().Keys > before {
			return k
		}
	}
}

func TestCompareRingkv(t *testing.T) {
	ctx := context.Background()
	rings := ringOf(t, 2, ringkv.WithReplicas(1))
	s := rings[0].Store()
	defer s.Close()
	local := heldBy(t, s, rings[0], "bench-ring-local-")
	remote := heldBy(t, s, rings[1], "bench-ring-remote-")
	mem := kv.NewMemory()
	mem.Set(ctx, kv.Item{Key: local, Value: value})

	// The like-for-like floor of a remote Get: one POST on a reused
	// loopback connection answered with the same 64 bytes.
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(value) }))
	defer raw.Close()
	rawClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer rawClient.CloseIdleConnections()

	client := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer client.Close()
	client.Set(ctx, "raw-bench-ring-get", value, 0)

	n2 := ringOf(t, 3)
	s2 := n2[0].Store()
	defer s2.Close()

	getRing := func(key string) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if it, err := s.Get(ctx, key); err != nil || len(it.Value) != len(value) {
					b.Fatal(err)
				}
			}
		}
	}
	compare.Run(t,
		compare.Case{
			Name: "kv/ringkv local Get vs kv memory Get",
			Ours: getRing(local),
			Peer: func(b *testing.B) {
				for b.Loop() {
					if _, err := mem.Get(ctx, local); err != nil {
						b.Fatal(err)
					}
				}
			},
			Goal: 2,
		},
		compare.Case{
			Name: "kv/ringkv remote Get vs raw HTTP POST",
			Ours: getRing(remote),
			Peer: func(b *testing.B) {
				for b.Loop() {
					resp, err := rawClient.Post(raw.URL+"/get?k="+remote, "", nil)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := resp.Body.Read(make([]byte, 128))
					resp.Body.Close()
					if n != len(value) {
						b.Fatal(n)
					}
				}
			},
		},
		compare.Case{
			Name: "kv/ringkv remote Get vs go-redis Get",
			Ours: getRing(remote),
			Peer: func(b *testing.B) {
				for b.Loop() {
					if _, err := client.Get(ctx, "raw-bench-ring-get").Bytes(); err != nil {
						b.Fatal(err)
					}
				}
			},
			Goal: 1.5,
		},
		compare.Case{
			// Not like-for-like: a write to two owners against one SET.
			Name: "extra: kv/ringkv Set N=2 vs go-redis Set",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if err := s2.Set(ctx, kv.Item{Key: "bench-ring-set", Value: value}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					if err := client.Set(ctx, "raw-bench-ring-set", value, 0).Err(); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
	)
}
