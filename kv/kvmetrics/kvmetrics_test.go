package kvmetrics_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvmetrics"
	"github.com/microos/go-os/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHookRecordsResults(t *testing.T) {
	ctx := context.Background()
	m := metrics.NewMemory()
	defer m.Close()
	s := kv.NewMemory(kv.WithHook(kvmetrics.Hook(m)))
	defer s.Close()
	s.Set(ctx, kv.Item{Key: "a", Value: []byte("1")})
	s.Get(ctx, "a")
	s.Get(ctx, "missing")
	s.Add(ctx, kv.Item{Key: "a"})
	s.Get(ctx, "bad key")
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ op, result string }{
		{"set", "ok"}, {"get", "ok"}, {"get", "not_found"}, {"add", "exists"}, {"get", "invalid"},
	} {
		if got := snap.Value("kv.requests_total", "op", c.op, "result", c.result); got != 1 {
			t.Errorf("kv.requests_total{op=%s,result=%s} = %v, want 1", c.op, c.result, got)
		}
	}
}

func BenchmarkHookedGet(b *testing.B) {
	ctx := context.Background()
	m := metrics.NewMemory()
	s := kv.NewMemory(kv.WithHook(kvmetrics.Hook(m)))
	s.Set(ctx, kv.Item{Key: "a", Value: []byte("1")})
	b.ReportAllocs()
	for b.Loop() {
		s.Get(ctx, "a")
	}
}
