package router_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

// An option given after the URL replaces the URL's version filter, as
// Open documents; it does not AND with it.
func TestOptionOverridesURLVersion(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	if err := reg.Register(ctx, &discovery.Service{Name: "api", Version: "v2",
		Nodes: []*discovery.Node{{ID: "api-v2", Address: "10.0.0.2", Port: 80}}}); err != nil {
		t.Fatal(err)
	}
	r := router.New(reg, router.WithVersion("v1"), router.WithVersion("v2"))
	defer r.Close()
	p, err := r.Pick(ctx, "api", "")
	if err != nil || p.Node.ID != "api-v2" {
		t.Fatalf("Pick with the later WithVersion(v2) = %v, %v", p.Node, err)
	}
	p.Done(nil, 0)
}

// A zero rate means no limit, never "refuse everything"; a nil logger
// logs nothing instead of panicking.
func TestZeroRateAndNilLogger(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	if err := reg.Register(ctx, &discovery.Service{Name: "api",
		Nodes: []*discovery.Node{{ID: "a", Address: "10.0.0.1", Port: 80}}}); err != nil {
		t.Fatal(err)
	}
	r := router.New(reg, router.WithRateLimit(0, 5), router.WithLogger(nil))
	defer r.Close()
	for i := 0; i < 100; i++ {
		p, err := r.Pick(ctx, "api", "")
		if err != nil {
			t.Fatalf("pick %d with WithRateLimit(0, 5): %v", i, err)
		}
		p.Done(nil, 0)
	}
}

// A name discovery could never hold makes no service entry (and no watch
// goroutine that lives until Close).
func TestInvalidServiceNameMakesNoWatch(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	r := router.New(reg)
	defer r.Close()
	for _, name := range []string{"", "has space", "a/b", string(make([]byte, 300))} {
		if _, err := r.Pick(context.Background(), name, ""); !errors.Is(err, router.ErrNoNodes) {
			t.Errorf("Pick(%q) = %v, want ErrNoNodes", name, err)
		}
	}
	if n := len(r.Stats()); n != 0 {
		t.Fatalf("%d services tracked after invalid names", n)
	}
}
