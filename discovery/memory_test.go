package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryConformance(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discovery.Registry {
		return discovery.NewMemory()
	}, discoverytest.Options{TTL: 500 * time.Millisecond, Propagation: 5 * time.Second, Outage: memoryOutage})
}

// memoryOutage is the memory backend's outage: Fail and Heal.
func memoryOutage(t *testing.T) (discovery.Registry, func(), func()) {
	m := discovery.NewMemory(discovery.WithRetry(time.Millisecond, 10*time.Millisecond))
	return m, func() { m.Fail(nil) }, m.Heal
}

func TestObserver(t *testing.T) {
	type call struct {
		op, service string
		err         error
	}
	var calls []call
	m := discovery.NewMemory(discovery.WithObserver(func(_ context.Context, op, service string, took time.Duration, err error) {
		if took < 0 {
			t.Errorf("negative duration %s", took)
		}
		calls = append(calls, call{op, service, err})
	}))
	defer m.Close()
	ctx := context.Background()
	svc := &discovery.Service{Name: "api", Nodes: []*discovery.Node{{ID: "a", Address: "h"}}}
	m.Register(ctx, svc)
	m.GetService(ctx, "api")
	m.GetService(ctx, "nobody")
	m.ListServices(ctx)
	m.Deregister(ctx, svc)
	m.Register(ctx, &discovery.Service{Name: "bad name"})
	want := []string{"register api <nil>", "getservice api <nil>", "getservice nobody discovery: service not found",
		"listservices  <nil>", "deregister api <nil>"}
	if len(calls) != len(want)+1 {
		t.Fatalf("observed %d calls, want %d", len(calls), len(want)+1)
	}
	for i, w := range want {
		if got := fmt.Sprintf("%s %s %v", calls[i].op, calls[i].service, calls[i].err); got != w {
			t.Errorf("call %d observed as %q, want %q", i, got, w)
		}
	}
	if last := calls[len(calls)-1]; last.op != "register" || !errors.Is(last.err, discovery.ErrInvalidService) {
		t.Errorf("refused call observed as %+v", last)
	}
}
