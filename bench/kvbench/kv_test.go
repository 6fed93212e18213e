// Package kvbench compares the kv adapters with the raw clients they wrap,
// doing the same work on the same servers.
package kvbench

import (
	"context"
	"strconv"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/memcachekv"
	"github.com/microos/go-os/kv/rediskv"
)

var value = []byte("a small value of sixty-four bytes, as sessions and flags are....")

func TestCompareRedis(t *testing.T) {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer client.Close()
	store := rediskv.New(client)

	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "bench-multi-" + strconv.Itoa(i)
		if err := store.Set(ctx, kv.Item{Key: keys[i], Value: value}); err != nil {
			t.Fatal(err)
		}
		client.Set(ctx, "raw-"+keys[i], value, 0)
	}
	raw := make([]string, len(keys))
	for i, k := range keys {
		raw[i] = "raw-" + k
	}
	store.Set(ctx, kv.Item{Key: "bench-get", Value: value})
	client.Set(ctx, "raw-bench-get", value, 0)

	compare.Run(t,
		compare.Case{
			Name: "kv/redis Get vs go-redis Get",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if _, err := store.Get(ctx, "bench-get"); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					if _, err := client.Get(ctx, "raw-bench-get").Bytes(); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
		compare.Case{
			Name: "kv/redis Set vs go-redis Set",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if err := store.Set(ctx, kv.Item{Key: "bench-set", Value: value}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					if err := client.Set(ctx, "raw-bench-set", value, 0).Err(); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
		compare.Case{
			// Same work on both sides: one MGET of the same 100 keys, every
			// value checked.
			Name: "kv/redis GetMulti(100) vs go-redis MGet(100)",
			Ours: func(b *testing.B) {
				for b.Loop() {
					m, err := store.GetMulti(ctx, keys)
					if err != nil || len(m) != len(keys) {
						b.Fatal(len(m), err)
					}
					for _, k := range keys {
						if string(m[k].Value) != string(value) {
							b.Fatalf("%s = %q", k, m[k].Value)
						}
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					vals, err := client.MGet(ctx, raw...).Result()
					if err != nil || len(vals) != len(raw) {
						b.Fatal(len(vals), err)
					}
					for i, v := range vals {
						if s, _ := v.(string); s != string(value) {
							b.Fatalf("%s = %v", raw[i], v)
						}
					}
				}
			},
			// Ours copies each value out of go-redis's string (a Value
			// the caller may modify), reads the 17-byte header and builds
			// the map: 100 allocations more than MGet's []any. Measured
			// 1.41 on a loaded 2-core VM; 1.5 catches a regression.
			Goal: 1.5,
		},
		compare.Case{
			// Not a like-for-like row: what one MGET saves over a pipeline
			// of GETs (what go-redis users often write).
			Name: "extra: kv/redis GetMulti(100) (one MGET) vs 100 pipelined GETs",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if m, err := store.GetMulti(ctx, keys); err != nil || len(m) != 100 {
						b.Fatal(len(m), err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					cmds, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
						for _, k := range raw {
							p.Get(ctx, k)
						}
						return nil
					})
					if err != nil || len(cmds) != 100 {
						b.Fatal(err)
					}
				}
			},
		},
	)
}

func TestCompareMemcached(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Memcached(t)[0]
	store, err := memcachekv.New([]string{addr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	client := memcache.New(addr)
	client.MaxIdleConns = 64
	defer client.Close()
	store.Set(ctx, kv.Item{Key: "bench-get", Value: value})
	client.Set(&memcache.Item{Key: "raw-bench-get", Value: value})

	compare.Run(t,
		compare.Case{
			Name: "kv/memcache Get vs gomemcache Get",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if _, err := store.Get(ctx, "bench-get"); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					if _, err := client.Get("raw-bench-get"); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
		compare.Case{
			Name: "kv/memcache Set vs gomemcache Set",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if err := store.Set(ctx, kv.Item{Key: "bench-set", Value: value}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					if err := client.Set(&memcache.Item{Key: "raw-bench-set", Value: value}); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
	)
}
