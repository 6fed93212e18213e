package routermetrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/router"
	"github.com/microos/go-os/router/routermetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSinkRecordsDeltas(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	if err := reg.Register(ctx, &discovery.Service{Name: "api", Nodes: []*discovery.Node{{ID: "api-1", Address: "10.0.0.1", Port: 80}}}); err != nil {
		t.Fatal(err)
	}
	m := metrics.NewMemory()
	defer m.Close()
	sink := routermetrics.Sink(m)
	r := router.New(reg, router.WithEjection(router.Ejection{Disabled: true}))
	defer r.Close()

	round := func(ok, failed int) {
		for i := 0; i < ok+failed; i++ {
			p, err := r.Pick(ctx, "api", "")
			if err != nil {
				t.Fatal(err)
			}
			var e error
			if i < failed {
				e = errors.New("boom")
			}
			p.Done(e, 2*time.Millisecond)
		}
		if err := sink.Publish(ctx, r.Stats()); err != nil {
			t.Fatal(err)
		}
	}
	round(3, 1)
	round(5, 0) // published twice: counters must add only what grew
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"router.requests_total": 9, "router.errors_total": 1} {
		p, ok := snap.Find(name, "service", "api", "node", "api-1")
		if !ok || p.Value != want {
			t.Errorf("%s = %v (found %v), want %v", name, p.Value, ok, want)
		}
	}
	if p, ok := snap.Find("router.latency_p50_seconds", "service", "api"); !ok || p.Value < 0.0016 || p.Value > 0.0033 {
		t.Errorf("p50 gauge = %v (found %v), want about 2ms", p.Value, ok)
	}
	if p, ok := snap.Find("router.outstanding", "service", "api", "node", "api-1"); !ok || p.Value != 0 {
		t.Errorf("outstanding gauge = %v (found %v), want 0", p.Value, ok)
	}
}

// Through WithSink: the router publishes on its interval and on Close.
func TestRouterPublishesToMetrics(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Register(ctx, &discovery.Service{Name: "api", Nodes: []*discovery.Node{{ID: "api-1", Address: "10.0.0.1", Port: 80}}})
	m := metrics.NewMemory()
	defer m.Close()
	r := router.New(reg, router.WithSink(routermetrics.Sink(m), time.Hour))
	p, err := r.Pick(ctx, "api", "")
	if err != nil {
		t.Fatal(err)
	}
	p.Done(nil, time.Millisecond)
	r.Close()
	snap, _ := m.Snapshot()
	if pt, ok := snap.Find("router.requests_total", "service", "api", "node", "api-1"); !ok || pt.Value != 1 {
		t.Errorf("after Close, router.requests_total = %v (found %v), want 1", pt.Value, ok)
	}
}
