package consuldiscovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
	"github.com/microos/go-os/internal/testenv"
)

// TestConsulOutage kills the agent under a registrar and a cache, checks
// that lookups keep answering with their age at a bounded retry rate, then
// starts a fresh agent (empty state) and checks that the registrar
// registers again by itself and the cache converges.
func TestConsulOutage(t *testing.T) {
	testenv.Consul(t) // the real-backend tests run together
	a := newAgent(t)
	a.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	retry := discovery.WithRetry(100*time.Millisecond, time.Second)
	writer, writes := dialCounting(t, a.addr(), retry)
	reader, reads := dialCounting(t, a.addr(), retry)
	name := discoverytest.Name(t)
	svc := &discovery.Service{Name: name, Version: "1", Nodes: []*discovery.Node{{ID: name + "-1", Address: "10.0.0.1", Port: 80}}}
	g, err := discovery.NewRegistrar(writer, svc, discovery.WithRegistrarTTL(3*time.Second),
		discovery.WithHeartbeat(time.Second), discovery.WithRetry(100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	cache := discovery.NewCache(reader)
	defer cache.Close()
	if a, err := cache.Lookup(ctx, name); err != nil || len(a.Services) != 1 || a.Age != 0 {
		t.Fatalf("lookup with consul up = %+v, %v", a, err)
	}

	a.kill()
	killed := time.Now()
	for {
		if ans, _ := cache.Lookup(ctx, name); ans.Err != nil {
			break
		}
		if time.Since(killed) > 5*time.Second {
			t.Fatal("the cache did not notice consul was killed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Measure the outage: lookups answer, age grows, requests stay few.
	const window = 3 * time.Second
	reqs0, cpu0, start := writes.n.Load()+reads.n.Load(), cpuTime(), time.Now()
	var lookups int
	var lastAge time.Duration
	for time.Since(start) < window {
		ans, err := cache.Lookup(ctx, name)
		if err != nil || len(ans.Services) != 1 || !errors.Is(ans.Err, discovery.ErrUnavailable) || ans.Age < lastAge {
			t.Fatalf("lookup during the outage = %+v, %v; want the last answer, aging", ans, err)
		}
		lastAge = ans.Age
		lookups++
		time.Sleep(time.Millisecond)
	}
	reqs := writes.n.Load() + reads.n.Load() - reqs0
	cpu := cpuTime() - cpu0
	st := g.State()
	t.Logf("outage: %d lookups in %s all answered (age reached %s); %d requests to consul (%.1f/s: 1 watch + 1 registrar, backoff 100ms→1s); CPU %s (%.1f%% of one core, including this test's lookup loop)",
		lookups, window, lastAge.Round(time.Millisecond), reqs, float64(reqs)/window.Seconds(), cpu.Round(time.Millisecond), 100*cpu.Seconds()/window.Seconds())
	if reqs > 20 {
		t.Errorf("%d requests in %s while consul was down: the retries are not bounded", reqs, window)
	}
	if st.Status != discovery.StatusRetrying || !errors.Is(st.LastError, discovery.ErrUnavailable) {
		t.Errorf("registrar state during the outage: %+v", st)
	}

	a.start(t) // a fresh -dev agent: empty catalog
	restarted := time.Now()
	for {
		ans, err := cache.Lookup(ctx, name)
		if err == nil && ans.Err == nil && ans.Age == 0 && len(ans.Services) == 1 && g.State().Status == discovery.StatusRegistered {
			break
		}
		if time.Since(restarted) > 15*time.Second {
			t.Fatalf("15s after consul came back: lookup %+v %v, registrar %+v", ans, err, g.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("consul back (fresh, empty): registrar re-registered and the cache converged in %s", time.Since(restarted).Round(time.Millisecond))
	if err := g.Close(); err != nil {
		t.Fatalf("deregister after recovery: %v", err)
	}
	for {
		if _, err := cache.GetService(ctx, name); err == discovery.ErrNotFound {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the cache never saw the deregistration")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
