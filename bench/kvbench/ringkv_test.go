package kvbench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	handlers := make([]lateHandler, count) // set once the instance exists
	for i := range urls {
		srv := httptest.NewServer(&handlers[i])
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
		handlers[i].set(r.Handler())
	}
	for _, r := range rings {
		if err := r.Settle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return rings
}

// heldBy writes keys through s until one lands on holder (N=1), or
// (held false) one that does not, and returns it.
func heldBy(t *testing.T, s kv.Store, holder *ringkv.Ring, prefix string, held bool) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		before := holder.Stats().Keys
		if err := s.Set(context.Background(), kv.Item{Key: k, Value: value}); err != nil {
			t.Fatal(err)
		}
		if (holder.Stats().Keys > before) == held {
			return k
		}
	}
}

// getLoop is a benchmark of Gets of key through s.
func getLoop(s kv.Store, key string) func(b *testing.B) {
	ctx := context.Background()
	return func(b *testing.B) {
		for b.Loop() {
			if it, err := s.Get(ctx, key); err != nil || len(it.Value) != len(value) {
				b.Fatal(err)
			}
		}
	}
}

// postLoop is a benchmark of raw POSTs to url answered with value: the
// floor of a remote Get over HTTP on the same connection reuse.
func postLoop(client *http.Client, url string) func(b *testing.B) {
	return func(b *testing.B) {
		buf := make([]byte, 128)
		for b.Loop() {
			resp, err := client.Post(url, "", nil)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.ReadFull(resp.Body, buf[:len(value)])
			resp.Body.Close()
			if n != len(value) {
				b.Fatal(n)
			}
		}
	}
}

func TestCompareRingkv(t *testing.T) {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer client.Close()
	client.Set(ctx, "raw-bench-ring-get", value, 0)
	redisGet := func(b *testing.B) {
		for b.Loop() {
			if _, err := client.Get(ctx, "raw-bench-ring-get").Bytes(); err != nil {
				b.Fatal(err)
			}
		}
	}
	redisSet := func(b *testing.B) {
		for b.Loop() {
			if err := client.Set(ctx, "raw-bench-ring-set", value, 0).Err(); err != nil {
				b.Fatal(err)
			}
		}
	}

	// Both instances in this process: a remote Get is a goroutine
	// handoff, not a process wakeup as a Redis GET is.
	rings := ringOf(t, 2, ringkv.WithReplicas(1))
	s := rings[0].Store()
	defer s.Close()
	local := heldBy(t, s, rings[0], "bench-ring-local-", true)
	inProcess := heldBy(t, s, rings[0], "bench-ring-remote-", false)
	mem := kv.NewMemory()
	mem.Set(ctx, kv.Item{Key: local, Value: value})

	// The remote instance in a child process, as Redis is: HTTP/1.1 and
	// h2c (WithH2C on every instance).
	h1 := ringWithChildren(t, 1, "n=1")
	s1 := h1.Store()
	defer s1.Close()
	remote := heldBy(t, s1, h1, "bench-ring-remote-", false)
	h2 := ringWithChildren(t, 1, "n=1,h2c")
	s2 := h2.Store()
	defer s2.Close()
	remoteH2 := heldBy(t, s2, h2, "bench-ring-remote-", false)

	// The like-for-like floor: one POST to a child process answered with
	// the same 64 bytes, no ring on either side.
	raw := startChild(t, "raw", "")
	rawClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer rawClient.CloseIdleConnections()
	h2cTransport := &http.Transport{Protocols: new(http.Protocols)}
	h2cTransport.Protocols.SetUnencryptedHTTP2(true)
	rawH2C := &http.Client{Transport: h2cTransport}
	defer rawH2C.CloseIdleConnections()

	// Set N=2 through an instance that holds no copy: to the primary,
	// which copies it to the replica before answering (two round trips
	// in a row, each to another process).
	n2 := ringWithChildren(t, 2, "n=2")
	sn2 := n2.Store()
	defer sn2.Close()
	setKey := heldBy(t, sn2, n2, "bench-ring-set-", false)
	inN2 := ringOf(t, 3)
	sIn2 := inN2[0].Store()
	defer sIn2.Close()

	compare.Run(t,
		compare.Case{
			Name: "kv/ringkv local Get vs kv memory Get",
			Ours: getLoop(s, local),
			Peer: getLoop(mem, local),
			Goal: 2,
		},
		compare.Case{
			Name: "kv/ringkv remote Get vs raw HTTP POST",
			Ours: getLoop(s1, remote),
			Peer: postLoop(rawClient, raw.url+"/get?k="+remote),
		},
		compare.Case{
			Name: "kv/ringkv remote Get vs go-redis Get",
			Ours: getLoop(s1, remote),
			Peer: redisGet,
			Goal: 1.5,
		},
		compare.Case{
			Name: "extra: raw HTTP POST vs go-redis Get",
			Ours: postLoop(rawClient, raw.url+"/get?k="+remote),
			Peer: redisGet,
		},
		compare.Case{
			Name: "extra: ringkv remote Get h2c vs raw h2c POST",
			Ours: getLoop(s2, remoteH2),
			Peer: postLoop(rawH2C, raw.url+"/get?k="+remoteH2),
		},
		compare.Case{
			Name: "extra: ringkv remote Get h2c vs go-redis Get",
			Ours: getLoop(s2, remoteH2),
			Peer: redisGet,
		},
		compare.Case{
			// Not like-for-like: the remote instance in this process.
			Name: "extra: ringkv in-process remote Get vs go-redis",
			Ours: getLoop(s, inProcess),
			Peer: redisGet,
		},
		compare.Case{
			// Not like-for-like: a write to two owners against one SET.
			Name: "extra: ringkv Set N=2 (2 hops) vs go-redis Set",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if err := sn2.Set(ctx, kv.Item{Key: setKey, Value: value}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: redisSet,
		},
		compare.Case{
			Name: "extra: ringkv in-process Set N=2 vs go-redis Set",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if err := sIn2.Set(ctx, kv.Item{Key: "bench-ring-set", Value: value}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: redisSet,
		},
	)
}
