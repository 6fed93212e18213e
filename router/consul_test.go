package router_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	_ "github.com/microos/go-os/discovery/consuldiscovery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/router"
	"github.com/microos/go-os/router/routertest"
)

// The conformance suite over a real Consul agent: registrations go through
// Consul's catalog and reach the router through blocking queries.
func TestConsulConformance(t *testing.T) {
	addr := testenv.Consul(t)
	routertest.Run(t, routertest.Harness{
		Registry: func(t *testing.T) discovery.Registry {
			reg, err := discovery.Open(context.Background(), "consul://"+addr)
			if err != nil {
				t.Fatal(err)
			}
			return reg
		},
		Propagation: 10 * time.Second,
		Outage: func(t *testing.T) (discovery.Registry, func(), func()) {
			// A path of the test's own to the shared agent, which it cuts.
			p := testenv.NewProxy(t, addr)
			p.Start()
			reg, err := discovery.Open(context.Background(), "consul://"+p.Addr()+"?wait=2s",
				discovery.WithRetry(10*time.Millisecond, 200*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			return reg, p.Stop, p.Start
		},
	})
}

// Open over Consul, the way an application picks its backend with one string.
func TestConsulOpen(t *testing.T) {
	addr := testenv.Consul(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := discovery.Open(ctx, "consul://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	svc := &discovery.Service{Name: "router-open-" + suffix, Version: "2", Nodes: []*discovery.Node{
		{ID: "router-open-a-" + suffix, Address: "127.0.0.1", Port: 8081},
	}}
	if err := reg.Register(ctx, svc); err != nil {
		t.Fatal(err)
	}
	defer reg.Deregister(context.Background(), svc)

	r, err := router.Open(ctx, "consul://"+addr+"?strategy=round_robin&version=2")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, "the node through Consul", func() bool {
		p, err := r.Pick(ctx, svc.Name, "")
		if err != nil {
			return false
		}
		p.Done(nil, time.Millisecond)
		return p.Node.Address == "127.0.0.1:8081" && p.Node.Version == "2"
	})
}
