package discovery_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
)

// Hooks wrap every call, the first given outermost, and see its result.
func TestHooksWrapEveryCall(t *testing.T) {
	var trace []string
	hook := func(tag string) discovery.Hook {
		return func(next discovery.Invoker) discovery.Invoker {
			return func(ctx context.Context, c *discovery.Call) error {
				trace = append(trace, tag+">"+c.Op)
				err := next(ctx, c)
				trace = append(trace, tag+"<"+c.Op)
				if c.Op == "getservice" && err == nil && len(c.Services) != 1 {
					t.Errorf("hook %s: getservice result %v not in the Call", tag, c.Services)
				}
				return err
			}
		}
	}
	m := discovery.NewMemory(discovery.WithHook(hook("a")), discovery.WithHook(hook("b")))
	defer m.Close()
	ctx := ctxT(t)
	svc := service("api", "x")
	if err := m.Register(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if got, err := m.GetService(ctx, "api"); err != nil || len(got) != 1 {
		t.Fatalf("GetService through hooks = %v, %v", got, err)
	}
	if names, err := m.ListServices(ctx); err != nil || !slices.Equal(names, []string{"api"}) {
		t.Fatalf("ListServices through hooks = %v, %v", names, err)
	}
	if err := m.Deregister(ctx, svc); err != nil {
		t.Fatal(err)
	}
	want := []string{}
	for _, op := range []string{"register", "getservice", "listservices", "deregister"} {
		want = append(want, "a>"+op, "b>"+op, "b<"+op, "a<"+op)
	}
	if !slices.Equal(trace, want) {
		t.Fatalf("hook order = %v, want %v", trace, want)
	}
}

// A hook may refuse a call, and sees the validation error of a bad one.
func TestHookSeesWholeCall(t *testing.T) {
	deny := errors.New("denied")
	var seen error
	m := discovery.NewMemory(discovery.WithHook(func(next discovery.Invoker) discovery.Invoker {
		return func(ctx context.Context, c *discovery.Call) error {
			if c.Op == "deregister" {
				return deny
			}
			seen = next(ctx, c)
			return seen
		}
	}))
	defer m.Close()
	if err := m.Deregister(ctxT(t), service("api", "x")); !errors.Is(err, deny) {
		t.Fatalf("Deregister = %v, want the hook's error", err)
	}
	if _, err := m.GetService(ctxT(t), "a b"); !errors.Is(err, discovery.ErrInvalidService) || !errors.Is(seen, discovery.ErrInvalidService) {
		t.Fatalf("GetService(bad) = %v, hook saw %v", err, seen)
	}
}

// WithService completes the registrar's Service and refuses a contradiction.
func TestRegistrarWithService(t *testing.T) {
	m := newMemory(t)
	svc := &discovery.Service{Nodes: []*discovery.Node{{Address: "10.0.0.1", Port: 80}}}
	g, err := discovery.NewRegistrar(m, svc, discovery.WithService("orders", "1.2.0", "orders-7"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got, err := m.GetService(ctxT(t), "orders")
	if err != nil || got[0].Version != "1.2.0" || got[0].Nodes[0].ID != "orders-7" {
		t.Fatalf("registered %v, %v; want orders 1.2.0 node orders-7", got, err)
	}
	if svc.Name != "" {
		t.Fatal("NewRegistrar modified the caller's Service")
	}
	if err := g.Check(ctxT(t)); err != nil {
		t.Fatalf("Check while registered = %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := g.Shutdown(ctxT(t)); err != nil {
		t.Fatalf("Shutdown after Close = %v", err)
	}
	if _, err := m.GetService(ctxT(t), "orders"); !errors.Is(err, discovery.ErrNotFound) {
		t.Fatalf("after Close the node is still registered: %v", err)
	}
	_, err = discovery.NewRegistrar(m, service("api", "x"), discovery.WithService("orders", "", ""))
	if !errors.Is(err, discovery.ErrInvalidService) {
		t.Fatalf("NewRegistrar(name differs from WithService) = %v", err)
	}
}

// Cache: Close twice, Shutdown after, Check says closed.
func TestCacheDoubleClose(t *testing.T) {
	m := newMemory(t)
	c := discovery.NewCache(m)
	register(t, m, "api", "a")
	if _, err := c.GetService(ctxT(t), "api"); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctxT(t)); err != nil {
		t.Fatalf("Check = %v", err)
	}
	for i := range 2 {
		if err := c.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown after Close = %v", err)
	}
	if err := c.Check(ctxT(t)); !errors.Is(err, discovery.ErrClosed) {
		t.Fatalf("Check after Close = %v", err)
	}
}

// Open refuses parameters mem:// does not take.
func TestOpenRefusesUnknownParameters(t *testing.T) {
	if _, err := discovery.Open(context.Background(), "mem://?ttl=1s"); err == nil {
		t.Fatal("Open(mem://?ttl=1s) succeeded")
	}
}
