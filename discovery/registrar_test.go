package discovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/oserr"
)

func service(name string, ids ...string) *discovery.Service {
	svc := &discovery.Service{Name: name, Version: "1"}
	for _, id := range ids {
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: id, Address: "10.0.0.1", Port: 80})
	}
	return svc
}

func registered(m discovery.Registry, name string) bool {
	svcs, err := m.GetService(context.Background(), name)
	return err == nil && len(svcs) > 0
}

func newRegistrar(t *testing.T, r discovery.Registry, svc *discovery.Service, opts ...discovery.Option) *discovery.Registrar {
	t.Helper()
	g, err := discovery.NewRegistrar(r, svc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestRegistrarHeartbeats(t *testing.T) {
	m := newMemory(t)
	const ttl = 600 * time.Millisecond
	g := newRegistrar(t, m, service("api", "a"), discovery.WithRegistrarTTL(ttl))
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Over several TTLs, the heartbeats keep the node alive throughout.
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if !registered(m, "api") {
			t.Fatalf("the node expired while its registrar heartbeats (state %+v)", g.State())
		}
	}
	st := g.State()
	if st.Status != discovery.StatusRegistered || st.Registrations < 4 || st.LastError != nil || st.LastSuccess.IsZero() {
		t.Fatalf("state %+v; want registered, about 9 heartbeats, no error", st)
	}
}

func TestRegistrarRetriesWithBackoff(t *testing.T) {
	m := newMemory(t)
	g := newRegistrar(t, m, service("api", "a"), discovery.WithRegistrarTTL(3*time.Second),
		discovery.WithHeartbeat(time.Second), discovery.WithRetry(10*time.Millisecond, 80*time.Millisecond))
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	m.Fail(errors.New("agent down"))
	// A heartbeat fails within a second; then retries back off.
	poll(t, "the registrar to report the failure", func() bool { return g.State().Status == discovery.StatusRetrying })
	before := m.Calls()
	time.Sleep(500 * time.Millisecond) // the window over which the retry rate is measured
	calls := m.Calls() - before
	// 10, 20, 40, 80, 80... ms with jitter in [d/2, d): at most ~14 in 500 ms.
	if calls > 16 {
		t.Fatalf("%d registration attempts in 500 ms: the backoff does not bound the retry rate", calls)
	}
	st := g.State()
	if !errors.Is(st.LastError, discovery.ErrUnavailable) || st.Failures < 3 {
		t.Fatalf("state while failing: %+v; want ErrUnavailable and several failures", st)
	}
	m.Heal()
	poll(t, "the registrar to recover", func() bool {
		st := g.State()
		return st.Status == discovery.StatusRegistered && st.Failures == 0
	})
	t.Logf("%d attempts in 500 ms while the registry was down", calls)
}

func TestRegistrarReRegistersAfterLoss(t *testing.T) {
	m := newMemory(t)
	g := newRegistrar(t, m, service("api", "a"), discovery.WithRegistrarTTL(300*time.Millisecond))
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	m.Restart() // a fresh agent with no state
	if registered(m, "api") {
		t.Fatal("Restart kept the registration")
	}
	poll(t, "the registrar to register again", func() bool { return registered(m, "api") })
}

func TestRegistrarCloseDeregisters(t *testing.T) {
	m := newMemory(t)
	g, err := discovery.NewRegistrar(m, service("api", "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if registered(m, "api") {
		t.Fatal("the nodes are still registered after Close")
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if st := g.State(); st.Status != discovery.StatusClosed {
		t.Fatalf("state after Close: %v", st.Status)
	}
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatalf("WaitRegistered after a registration then Close: %v", err)
	}
}

// Shutdown honours its ctx against a registry that hangs: it returns (the
// test would time out otherwise) with the deadline or the deregistration's
// failure, and Close after it returns at once with the same outcome.
func TestRegistrarShutdownWithStalledRegistry(t *testing.T) {
	m := newMemory(t)
	m.Stall()
	g, err := discovery.NewRegistrar(m, service("api", "a"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.WaitRegistered(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitRegistered with a stalled registry = %v", err)
	}
	if err := g.Check(ctxT(t)); !errors.Is(err, oserr.Unavailable) {
		t.Fatalf("Check before the first registration = %v, want unavailable", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer scancel()
	if err := g.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("Shutdown with a stalled registry = %v, want its deadline", err)
	}
	if err := g.Close(); err == nil {
		t.Fatal("Close after a failed deregistration = nil, want its error")
	}
	if err := g.Check(ctxT(t)); !errors.Is(err, discovery.ErrClosed) {
		t.Fatalf("Check after Close = %v, want ErrClosed", err)
	}
	m.Heal()
}

func TestRegistrarRejectsBadInput(t *testing.T) {
	m := newMemory(t)
	if _, err := discovery.NewRegistrar(m, &discovery.Service{Name: "a b"}); !errors.Is(err, discovery.ErrInvalidService) {
		t.Fatalf("NewRegistrar(bad name) = %v", err)
	}
	_, err := discovery.NewRegistrar(m, service("api", "a"), discovery.WithRegistrarTTL(time.Second), discovery.WithHeartbeat(time.Second))
	if !errors.Is(err, discovery.ErrInvalidService) {
		t.Fatalf("NewRegistrar(heartbeat = TTL) = %v", err)
	}
}
