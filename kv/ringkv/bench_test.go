package ringkv_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

var benchValue = []byte("a small value of sixty-four bytes, as sessions and flags are....")

// keyOwnedBy returns a key whose only copy (N=1) is on n.
func keyOwnedBy(b *testing.B, s kv.Store, n *node, prefix string) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		if err := s.Set(context.Background(), kv.Item{Key: k, Value: benchValue}); err != nil {
			b.Fatal(err)
		}
		if _, ok := peek(b, n, k); ok {
			return k
		}
	}
}

func benchGet(b *testing.B, s kv.Store, key string) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSet(b *testing.B, s kv.Store, key string) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set(ctx, kv.Item{Key: key, Value: benchValue}); err != nil {
			b.Fatal(err)
		}
	}
}

// The floor for a local Get: the memory store.
func BenchmarkMemoryGet(b *testing.B) {
	s := kv.NewMemory()
	s.Set(context.Background(), kv.Item{Key: "k", Value: benchValue})
	benchGet(b, s, "k")
}

func BenchmarkGetLocal(b *testing.B) {
	nodes := cluster(b, 2, ringkv.WithReplicas(1))
	s := nodes[0].ring.Store()
	defer s.Close()
	benchGet(b, s, keyOwnedBy(b, s, nodes[0], "local-"))
}

func BenchmarkGetRemote(b *testing.B) {
	nodes := cluster(b, 2, ringkv.WithReplicas(1))
	s := nodes[0].ring.Store()
	defer s.Close()
	benchGet(b, s, keyOwnedBy(b, s, nodes[1], "remote-"))
}

// A Set through an instance that is not an owner: to the primary, which
// copies it to the replica (N=2 on 3 instances).
func BenchmarkSetRemoteN2(b *testing.B) {
	nodes := cluster(b, 3, ringkv.WithReplicas(2))
	s := nodes[0].ring.Store()
	defer s.Close()
	var key string
	for i := 0; ; i++ {
		key = "setn2-" + strconv.Itoa(i)
		if err := s.Set(context.Background(), kv.Item{Key: key, Value: benchValue}); err != nil {
			b.Fatal(err)
		}
		if _, ok := peek(b, nodes[0], key); !ok {
			break
		}
	}
	benchSet(b, s, key)
}

func BenchmarkSetLocalN1(b *testing.B) {
	nodes := cluster(b, 2, ringkv.WithReplicas(1))
	s := nodes[0].ring.Store()
	defer s.Close()
	benchSet(b, s, keyOwnedBy(b, s, nodes[0], "setn1-"))
}

func BenchmarkGetRemoteH2C(b *testing.B) {
	nodes := cluster(b, 2, ringkv.WithReplicas(1), ringkv.WithH2C())
	s := nodes[0].ring.Store()
	defer s.Close()
	benchGet(b, s, keyOwnedBy(b, s, nodes[1], "remote-"))
}
