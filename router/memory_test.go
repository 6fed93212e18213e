package router_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
	"github.com/microos/go-os/router/routertest"
)

func TestMemoryConformance(t *testing.T) {
	// One registry for the whole run, as a server would be.
	reg := discovery.NewMemory()
	t.Cleanup(func() { reg.Close() })
	routertest.Run(t, routertest.Harness{
		Registry: func(t *testing.T) discovery.Registry { return noClose{reg} },
		Outage: func(t *testing.T) (discovery.Registry, func(), func()) {
			m := discovery.NewMemory(discovery.WithRetry(time.Millisecond, 10*time.Millisecond))
			return m, func() { m.Fail(nil) }, m.Heal
		},
	})
}

// noClose shares one registry between the suite's tests.
type noClose struct{ discovery.Registry }

func (noClose) Close() error { return nil }

func TestStrategies(t *testing.T) {
	for name, s := range router.Strategies() {
		t.Run(name, func(t *testing.T) { routertest.RunStrategy(t, s) })
	}
}

func register(t *testing.T, reg discovery.Registry, name string, nodes ...*discovery.Node) {
	t.Helper()
	if err := reg.Register(context.Background(), &discovery.Service{Name: name, Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
}

// Discovery down: the router keeps routing to the nodes it knew.
func TestDiscoveryDownKeepsLastNodes(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory(discovery.WithRetry(time.Millisecond, 5*time.Millisecond))
	defer reg.Close()
	register(t, reg, "api", &discovery.Node{ID: "api-1", Address: "10.0.0.1", Port: 80})
	r := router.New(reg)
	defer r.Close()
	if _, err := r.Pick(ctx, "api", ""); err != nil {
		t.Fatal(err)
	}
	reg.Fail(nil)
	// Wait until the router has seen the failure, then check it still routes.
	waitFor(t, "the router to see discovery fail", func() bool {
		st, _ := r.ServiceStats("api")
		return st.DiscoveryErr != nil
	})
	for i := 0; i < 10; i++ {
		p, err := r.Pick(ctx, "api", "")
		if err != nil || p.Node.Address != "10.0.0.1:80" {
			t.Fatalf("with discovery down, Pick = %v, %v; want the last known node", p.Node, err)
		}
		p.Done(nil, time.Millisecond)
	}
	reg.Heal()
	// A blocking query returns on a change: make one so the watch sees the
	// registry back.
	register(t, reg, "api", &discovery.Node{ID: "api-2", Address: "10.0.0.2", Port: 80})
	waitFor(t, "the router to see discovery recover", func() bool {
		st, _ := r.ServiceStats("api")
		return st.DiscoveryErr == nil && len(st.Nodes) == 2
	})
}

// Discovery down before the router learnt anything: a clear error, not a hang.
func TestDiscoveryDownFromTheStart(t *testing.T) {
	reg := discovery.NewMemory(discovery.WithRetry(time.Millisecond, 5*time.Millisecond))
	defer reg.Close()
	reg.Fail(nil)
	r := router.New(reg)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := r.Pick(ctx, "api", "")
	if !errors.Is(err, router.ErrUnavailable) {
		t.Fatalf("Pick with discovery down = %v, want ErrUnavailable", err)
	}
	reg.Heal()
	register(t, reg, "api", &discovery.Node{ID: "api-1", Address: "10.0.0.1", Port: 80})
	waitFor(t, "routing once discovery is back", func() bool {
		p, err := r.Pick(ctx, "api", "")
		if err == nil {
			p.Done(nil, 0)
		}
		return err == nil
	})
}

// A hung registry makes the first Pick wait only as long as its ctx.
func TestFirstPickHonoursContext(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Stall()
	defer reg.Heal()
	r := router.New(reg)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Pick(ctx, "api", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pick with a hung registry = %v, want DeadlineExceeded", err)
	}
}

func TestNodeUpdateKeepsStats(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	register(t, reg, "api", &discovery.Node{ID: "api-1", Address: "10.0.0.1", Port: 80})
	r := router.New(reg)
	defer r.Close()
	p, err := r.Pick(ctx, "api", "")
	if err != nil {
		t.Fatal(err)
	}
	p.Done(nil, time.Millisecond)
	register(t, reg, "api", &discovery.Node{ID: "api-1", Address: "10.0.0.2", Port: 80})
	waitFor(t, "the new address", func() bool {
		p, err := r.Pick(ctx, "api", "")
		if err != nil {
			return false
		}
		p.Done(nil, time.Millisecond)
		return p.Node.Address == "10.0.0.2:80"
	})
	st, _ := r.ServiceStats("api")
	if len(st.Nodes) != 1 || st.Nodes[0].Requests < 2 {
		t.Errorf("after an address change, node stats = %+v; want the requests before it kept", st.Nodes)
	}
}

func TestSinkPublishes(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	register(t, reg, "api", &discovery.Node{ID: "api-1", Address: "10.0.0.1", Port: 80})
	sink := router.NewMemorySink()
	r := router.New(reg, router.WithSink(sink, 10*time.Millisecond))
	p, err := r.Pick(ctx, "api", "")
	if err != nil {
		t.Fatal(err)
	}
	p.Done(nil, time.Millisecond)
	waitFor(t, "a publish", func() bool { _, n := sink.Last(); return n > 0 })
	r.Close()
	last, _ := sink.Last()
	if len(last) != 1 || last[0].Service != "api" || last[0].Requests != 1 {
		t.Errorf("last published stats = %+v, want api with 1 request (Close publishes)", last)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	r, err := router.Open(ctx, "mem://?strategy=round_robin&version=2&label=track:canary&zone=a&panic=1")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Pick(ctx, "api", ""); !errors.Is(err, router.ErrNoNodes) {
		t.Errorf("Pick on an empty registry = %v, want ErrNoNodes", err)
	}
	for _, bad := range []string{"mem://?strategy=nope", "mem://?label=novalue", "mem://?panic=maybe", "nope://x", "%zz"} {
		if r, err := router.Open(ctx, bad); err == nil {
			r.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestLocal(t *testing.T) {
	if !router.Local(&router.Error{Op: "pick", Service: "x", Err: router.ErrThrottled}) || router.Local(errors.New("boom")) {
		t.Error("Local misclassifies")
	}
}

// waitFor polls cond (state the router reaches asynchronously) for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
