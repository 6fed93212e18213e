package discovery_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/oserr"
)

// cached is a Cache that owns the registry behind it, so that the
// conformance suite can close both.
type cached struct {
	*discovery.Cache
	r discovery.Registry
}

func (c cached) Close() error {
	err := c.Cache.Close()
	c.r.Close()
	return err
}

func TestCacheConformance(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discovery.Registry {
		m := discovery.NewMemory()
		return cached{discovery.NewCache(m), m}
	}, discoverytest.Options{TTL: 500 * time.Millisecond, Propagation: 5 * time.Second,
		Outage: func(t *testing.T) (discovery.Registry, func(), func()) {
			m := discovery.NewMemory(discovery.WithRetry(time.Millisecond, 10*time.Millisecond))
			return cached{discovery.NewCache(m), m}, func() { m.Fail(nil) }, m.Heal
		}})
}

// countingRegistry counts the watches started on it.
type countingRegistry struct {
	discovery.Registry
	watches atomic.Int64
}

func (c *countingRegistry) Watch(ctx context.Context, name string) (<-chan discovery.Event, error) {
	c.watches.Add(1)
	return c.Registry.Watch(ctx, name)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func register(t *testing.T, r discovery.Registry, name string, ids ...string) *discovery.Service {
	t.Helper()
	svc := &discovery.Service{Name: name, Version: "1"}
	for _, id := range ids {
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: id, Address: "10.0.0.1", Port: 80})
	}
	if err := r.Register(ctxT(t), svc); err != nil {
		t.Fatal(err)
	}
	return svc
}

func nodeIDs(svcs []*discovery.Service) []string {
	var out []string
	for _, n := range discovery.Nodes(svcs) {
		out = append(out, n.ID)
	}
	return out
}

// poll checks cond every few milliseconds until it holds or 5 s pass.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newMemory(t *testing.T) *discovery.Memory {
	m := discovery.NewMemory(discovery.WithRetry(5*time.Millisecond, 50*time.Millisecond))
	t.Cleanup(func() { m.Close() })
	return m
}

func newCache(t *testing.T, r discovery.Registry, opts ...discovery.Option) *discovery.Cache {
	c := discovery.NewCache(r, opts...)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCacheServesFromMemory(t *testing.T) {
	m := newMemory(t)
	register(t, m, "api", "a", "b")
	c := newCache(t, m)
	got, err := c.GetService(ctxT(t), "api")
	if err != nil || !slices.Equal(nodeIDs(got), []string{"a", "b"}) {
		t.Fatalf("first lookup = %v, %v", nodeIDs(got), err)
	}
	before := m.Calls()
	for range 1000 {
		if _, err := c.GetService(ctxT(t), "api"); err != nil {
			t.Fatal(err)
		}
	}
	// The watch's next blocking query may start meanwhile: 1 call, not 1000.
	if calls := m.Calls() - before; calls > 1 {
		t.Fatalf("1000 cached lookups made %d backend calls, want none (but the watch's)", calls)
	}
	if _, err := c.GetService(ctxT(t), "nobody"); err != discovery.ErrNotFound {
		t.Fatalf("lookup of an unknown service = %v, want the bare ErrNotFound", err)
	}
	if _, err := c.GetService(ctxT(t), "nobody"); err != discovery.ErrNotFound {
		t.Fatalf("cached lookup of an unknown service = %v, want the bare ErrNotFound", err)
	}
	if n := c.Watched(); n != 2 {
		t.Fatalf("the cache watches %d services, want the 2 looked up", n)
	}
}

func TestCacheSharesFirstLookup(t *testing.T) {
	m := newMemory(t)
	register(t, m, "api", "a")
	counting := &countingRegistry{Registry: m}
	c := newCache(t, counting)
	m.Stall() // hold the first lookups together
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetService(ctxT(t), "api")
			errs <- err
		}()
	}
	poll(t, "the first lookups to start the watch", func() bool { return counting.watches.Load() > 0 })
	m.Heal()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := counting.watches.Load(); n != 1 {
		t.Fatalf("50 concurrent first lookups started %d watches, want 1", n)
	}
}

func TestCacheFollowsChanges(t *testing.T) {
	m := newMemory(t)
	svc := register(t, m, "api", "a")
	c := newCache(t, m)
	if _, err := c.GetService(ctxT(t), "api"); err != nil {
		t.Fatal(err)
	}
	register(t, m, "api", "b")
	poll(t, "the cache to see node b", func() bool {
		got, _ := c.GetService(ctxT(t), "api")
		return slices.Equal(nodeIDs(got), []string{"a", "b"})
	})
	if err := m.Deregister(ctxT(t), svc); err != nil {
		t.Fatal(err)
	}
	poll(t, "the cache to drop node a", func() bool {
		got, _ := c.GetService(ctxT(t), "api")
		return slices.Equal(nodeIDs(got), []string{"b"})
	})
}

func TestCacheServesStaleWithAge(t *testing.T) {
	m := newMemory(t)
	register(t, m, "api", "a")
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	c := newCache(t, m, discovery.WithMaxStale(time.Minute), discovery.WithClock(clock))
	if a, err := c.Lookup(ctxT(t), "api"); err != nil || a.Age != 0 || a.Err != nil {
		t.Fatalf("fresh lookup = %+v, %v", a, err)
	}

	m.Fail(errors.New("consul is down"))
	poll(t, "the cache to notice the failure", func() bool {
		a, _ := c.Lookup(ctxT(t), "api")
		return a.Err != nil
	})
	now.Add(int64(30 * time.Second))
	a, err := c.Lookup(ctxT(t), "api")
	if err != nil || !slices.Equal(nodeIDs(a.Services), []string{"a"}) {
		t.Fatalf("stale lookup = %v, %v; want the last answer", nodeIDs(a.Services), err)
	}
	if a.Age != 30*time.Second || !errors.Is(a.Err, discovery.ErrUnavailable) {
		t.Fatalf("stale lookup: age %s err %v; want 30s and ErrUnavailable", a.Age, a.Err)
	}
	var he *health.Error
	if err := c.Check(ctxT(t)); !errors.Is(err, discovery.ErrUnavailable) || errors.Is(err, discovery.ErrStale) || !errors.As(err, &he) || he.Age != 30*time.Second {
		t.Fatalf("Check while stale within the limit = %v, want ErrUnavailable 30s old", err)
	}
	if got, err := c.GetService(ctxT(t), "api"); err != nil || len(got) != 1 {
		t.Fatalf("GetService while stale = %v, %v; want the last answer", got, err)
	}

	now.Add(int64(31 * time.Second))
	_, err = c.Lookup(ctxT(t), "api")
	if !errors.Is(err, discovery.ErrStale) || !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("lookup past the stale limit = %v; want ErrStale wrapping ErrUnavailable", err)
	}
	if err := c.Check(ctxT(t)); !errors.Is(err, discovery.ErrStale) || oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("Check past the stale limit = %v, want ErrStale (class unavailable)", err)
	}

	m.Heal()
	poll(t, "the cache to recover", func() bool {
		a, err := c.Lookup(ctxT(t), "api")
		return err == nil && a.Age == 0 && a.Err == nil && len(a.Services) == 1
	})
	if err := c.Check(ctxT(t)); err != nil {
		t.Fatalf("Check after recovery = %v", err)
	}
}

func TestCacheFirstLookupWhileDown(t *testing.T) {
	m := newMemory(t)
	register(t, m, "api", "a")
	c := newCache(t, m)
	m.Fail(nil)
	if _, err := c.GetService(ctxT(t), "api"); !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("first lookup with the registry down = %v, want ErrUnavailable", err)
	}
	m.Heal()
	poll(t, "the cache's watch to retry and answer", func() bool {
		got, err := c.GetService(ctxT(t), "api")
		return err == nil && len(got) == 1
	})
}

func TestCacheFirstLookupHonoursContext(t *testing.T) {
	m := newMemory(t)
	c := newCache(t, m)
	m.Stall()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.GetService(ctx, "api"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("lookup with a stalled registry = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	m.Heal()
}

func TestCacheNeverReturnsExpiredNodes(t *testing.T) {
	m := newMemory(t)
	const ttl = 150 * time.Millisecond
	register(t, m, "api", "keep")
	registered := time.Now()
	if err := m.Register(ctxT(t), &discovery.Service{Name: "api", Version: "1", Nodes: []*discovery.Node{{ID: "mortal", Address: "h"}}}, discovery.WithTTL(ttl)); err != nil {
		t.Fatal(err)
	}
	c := newCache(t, m)
	poll(t, "the cache to see the mortal node", func() bool {
		got, _ := c.GetService(ctxT(t), "api")
		return len(nodeIDs(got)) == 2
	})
	// The cache must drop the node about when the registry does (one
	// watch round later), and never return it again. Measured against the
	// registry itself in the same loop, not against the wall clock: a
	// loaded machine delays both alike. The bound on the lag is loose (a
	// round is microseconds in memory); the deadline only ends a test
	// whose node never goes.
	var regGone, cacheGone time.Time
	deadline := registered.Add(ttl + 10*time.Second)
	for cacheGone.IsZero() || regGone.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("the mortal node still there %s after it registered with TTL %s (registry gone at %v)", time.Since(registered), ttl, !regGone.IsZero())
		}
		if regGone.IsZero() {
			if direct, _ := m.GetService(ctxT(t), "api"); !slices.Contains(nodeIDs(direct), "mortal") {
				regGone = time.Now()
			}
		}
		got, err := c.GetService(ctxT(t), "api")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(nodeIDs(got), "mortal") {
			if cacheGone.IsZero() {
				cacheGone = time.Now()
			}
		} else if !cacheGone.IsZero() {
			t.Fatal("the cache returned the expired node again")
		}
		time.Sleep(time.Millisecond)
	}
	lag := cacheGone.Sub(regGone)
	t.Logf("expired node gone from the registry %s after registration (TTL %s), from the cache %s later",
		regGone.Sub(registered).Round(time.Millisecond), ttl, lag.Round(time.Microsecond))
	if lag > time.Second {
		t.Fatalf("the cache kept the expired node %s after the registry dropped it", lag)
	}
	if regGone.Sub(registered) < ttl {
		t.Fatalf("the node expired after %s, before its TTL %s", regGone.Sub(registered), ttl)
	}
	if got, _ := c.GetService(ctxT(t), "api"); !slices.Equal(nodeIDs(got), []string{"keep"}) {
		t.Fatalf("after expiry the cache returns %v", nodeIDs(got))
	}
}

func TestCacheStopsIdleWatches(t *testing.T) {
	m := newMemory(t)
	register(t, m, "api", "a")
	c := newCache(t, m, discovery.WithIdleTimeout(20*time.Millisecond))
	if _, err := c.GetService(ctxT(t), "api"); err != nil {
		t.Fatal(err)
	}
	poll(t, "the idle watch to stop", func() bool { return c.Watched() == 0 })
	if got, err := c.GetService(ctxT(t), "api"); err != nil || len(got) != 1 {
		t.Fatalf("lookup after the idle watch stopped = %v, %v", got, err)
	}
}

func TestCacheClose(t *testing.T) {
	m := newMemory(t)
	register(t, m, "api", "a")
	c := discovery.NewCache(m)
	if _, err := c.GetService(ctxT(t), "api"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.GetService(ctxT(t), "api"); !errors.Is(err, discovery.ErrClosed) {
		t.Fatalf("lookup after Close = %v, want ErrClosed", err)
	}
	// The registry behind it is not closed.
	if _, err := m.GetService(ctxT(t), "api"); err != nil {
		t.Fatalf("the registry behind a closed cache: %v", err)
	}
}
