package kv_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/microos/go-os/kv"
)

func BenchmarkMemoryGetHit(b *testing.B) {
	ctx := context.Background()
	s := kv.NewMemory()
	s.Set(ctx, kv.Item{Key: "user:1", Value: []byte("ada lovelace")})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "user:1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryGetHitTTL(b *testing.B) {
	ctx := context.Background()
	s := kv.NewMemory()
	s.Set(ctx, kv.Item{Key: "user:1", Value: []byte("ada lovelace"), TTL: time.Hour})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "user:1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryGetMiss(b *testing.B) {
	ctx := context.Background()
	s := kv.NewMemory()
	b.ReportAllocs()
	for b.Loop() {
		s.Get(ctx, "user:1")
	}
}

func BenchmarkMemorySet(b *testing.B) {
	ctx := context.Background()
	s := kv.NewMemory()
	v := []byte("ada lovelace")
	b.ReportAllocs()
	for b.Loop() {
		s.Set(ctx, kv.Item{Key: "user:1", Value: v})
	}
}

func BenchmarkMemoryGetParallel(b *testing.B) {
	ctx := context.Background()
	s := kv.NewMemory()
	for i := range 1024 {
		s.Set(ctx, kv.Item{Key: "user:" + strconv.Itoa(i), Value: []byte("v")})
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			s.Get(ctx, keys[i&1023])
		}
	})
}

// Hooks cost no allocation of their own (Calls are pooled); the one
// allocation left is the Value copy every hit makes.
func BenchmarkMemoryGetHooks(b *testing.B) {
	passthrough := func(next kv.Invoker) kv.Invoker {
		return func(ctx context.Context, c *kv.Call) error { return next(ctx, c) }
	}
	for _, n := range []int{0, 1} {
		b.Run(strconv.Itoa(n)+"hooks", func(b *testing.B) {
			var opts []kv.Option
			for range n {
				opts = append(opts, kv.WithHook(passthrough))
			}
			s := kv.NewMemory(opts...)
			ctx := context.Background()
			s.Set(ctx, kv.Item{Key: "a", Value: []byte("1")})
			b.ReportAllocs()
			for b.Loop() {
				s.Get(ctx, "a")
			}
		})
	}
}
