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
			Name: "kv/redis GetMulti(100) vs 100 pipelined GETs",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if m, err := store.GetMulti(ctx, keys); err != nil || len(m) != 100 {
						b.Fatal(len(m), err)
					}
				}
			},
			Peer: func(b *testing.B) {
				raw := make([]string, len(keys))
				for i, k := range keys {
					raw[i] = "raw-" + k
				}
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
