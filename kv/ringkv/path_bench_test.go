package ringkv

import (
	"context"
	"testing"

	"github.com/microos/go-os/kv"
)

// The parts of a local Get, to see what the ring adds to the memory.
func BenchmarkPathLocalGet(b *testing.B) {
	r, err := New("http://self", []string{"http://self"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	r.exec(ctx, call{op: "set", key: "k", value: []byte("v")})
	b.Run("local.get", func(b *testing.B) {
		for b.Loop() {
			r.local.get("k")
		}
	})
	b.Run("pref", func(b *testing.B) {
		v := r.view.Load()
		var buf [4]int
		for b.Loop() {
			v.pref("k", buf[:0])
		}
	})
	b.Run("exec", func(b *testing.B) {
		for b.Loop() {
			r.exec(ctx, call{op: "get", key: "k"})
		}
	})
	b.Run("store", func(b *testing.B) {
		s := r.Store()
		for b.Loop() {
			s.Get(ctx, "k")
		}
	})
	b.Run("memory", func(b *testing.B) {
		s := kv.NewMemory()
		s.Set(ctx, kv.Item{Key: "k", Value: []byte("v")})
		for b.Loop() {
			s.Get(ctx, "k")
		}
	})
}
