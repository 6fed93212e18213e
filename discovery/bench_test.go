package discovery_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/microos/go-os/discovery"
)

func benchRegistry(b *testing.B, services, nodes int) (*discovery.Memory, []string) {
	m := discovery.NewMemory()
	b.Cleanup(func() { m.Close() })
	names := make([]string, services)
	for i := range names {
		names[i] = fmt.Sprintf("svc-%d", i)
		svc := &discovery.Service{Name: names[i], Version: "1"}
		for j := range nodes {
			svc.Nodes = append(svc.Nodes, &discovery.Node{ID: fmt.Sprintf("%s-%d", names[i], j), Address: "10.0.0.1", Port: 8000 + j})
		}
		if err := m.Register(context.Background(), svc); err != nil {
			b.Fatal(err)
		}
	}
	return m, names
}

// BenchmarkCacheGetService is the hot path: a cached lookup (hit) among
// 100 watched services of 10 nodes.
func BenchmarkCacheGetService(b *testing.B) {
	m, names := benchRegistry(b, 100, 10)
	c := discovery.NewCache(m)
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for _, n := range names {
		if _, err := c.GetService(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := c.GetService(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheGetServiceParallel(b *testing.B) {
	m, names := benchRegistry(b, 100, 10)
	c := discovery.NewCache(m)
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for _, n := range names {
		if _, err := c.GetService(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.GetService(ctx, names[i%len(names)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkCacheLookup includes the answer's age.
func BenchmarkCacheLookup(b *testing.B) {
	m, names := benchRegistry(b, 1, 10)
	c := discovery.NewCache(m)
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Lookup(ctx, names[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryGetService is the uncached read, for comparison.
func BenchmarkMemoryGetService(b *testing.B) {
	m, names := benchRegistry(b, 100, 10)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := m.GetService(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeartbeat is a registration that changes nothing.
func BenchmarkHeartbeat(b *testing.B) {
	m, _ := benchRegistry(b, 0, 0)
	svc := &discovery.Service{Name: "api", Version: "1", Nodes: []*discovery.Node{{ID: "api-1", Address: "10.0.0.1", Port: 80, Metadata: map[string]string{"a": "b"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Register(ctx, svc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeartbeatHooked is the heartbeat under a pass-through hook:
// what a hook costs on a real call.
func BenchmarkHeartbeatHooked(b *testing.B) {
	m := discovery.NewMemory(discovery.WithHook(func(next discovery.Invoker) discovery.Invoker {
		return func(ctx context.Context, c *discovery.Call) error { return next(ctx, c) }
	}))
	b.Cleanup(func() { m.Close() })
	svc := &discovery.Service{Name: "api", Version: "1", Nodes: []*discovery.Node{{ID: "api-1", Address: "10.0.0.1", Port: 80, Metadata: map[string]string{"a": "b"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Register(ctx, svc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheCheck is the health check a monitor polls.
func BenchmarkCacheCheck(b *testing.B) {
	m, names := benchRegistry(b, 100, 10)
	c := discovery.NewCache(m)
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for _, n := range names {
		if _, err := c.GetService(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
