package consuldiscovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
	"github.com/microos/go-os/internal/testenv"
)

// TestHeartbeatIsOneRequest: registering an unchanged node again costs one
// TTL update; a changed node, or a node the agent lost, is registered again.
func TestHeartbeatIsOneRequest(t *testing.T) {
	r, requests := dialCounting(t, testenv.Consul(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := discoverytest.Name(t)
	n := &discovery.Node{ID: name + "-1", Address: "10.0.0.1", Port: 80}
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{n}}
	defer r.Deregister(context.Background(), svc)
	heartbeat := func() int64 {
		t.Helper()
		before := requests.n.Load()
		if err := r.Register(ctx, svc, discovery.WithTTL(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		return requests.n.Load() - before
	}
	if got := heartbeat(); got != 1 {
		t.Fatalf("first registration took %d requests, want 1", got)
	}
	if got := heartbeat(); got != 1 {
		t.Fatalf("heartbeat took %d requests, want 1 (a TTL update)", got)
	}
	n.Port = 81
	if got := heartbeat(); got != 1 {
		t.Fatalf("changed registration took %d requests, want 1 (a registration)", got)
	}

	// The agent loses the node (as after a restart): the next heartbeat's
	// TTL update fails, and it registers again.
	transport := api.DefaultConfig().Transport
	defer transport.CloseIdleConnections()
	raw, err := api.NewClient(&api.Config{Address: testenv.Consul(t), Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Agent().ServiceDeregister(n.ID); err != nil {
		t.Fatal(err)
	}
	if got := heartbeat(); got != 2 {
		t.Fatalf("heartbeat after the agent lost the node took %d requests, want 2 (update, then register)", got)
	}
	svcs, err := r.GetService(ctx, name)
	if err != nil || len(svcs) != 1 || svcs[0].Nodes[0].Port != 81 {
		t.Fatalf("after re-registration GetService = %v, %v", svcs, err)
	}
}
