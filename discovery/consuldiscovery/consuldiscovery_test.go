package consuldiscovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"

	"github.com/microos/go-os/discovery"
	_ "github.com/microos/go-os/discovery/consuldiscovery"
	"github.com/microos/go-os/discovery/discoverytest"
	"github.com/microos/go-os/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// open returns a registry on the shared test agent, through the URL as an
// application would.
func open(t testing.TB, opts ...discovery.Option) discovery.Registry {
	t.Helper()
	addr := testenv.Consul(t)
	r, err := discovery.Open(context.Background(), "consul://"+addr, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func TestConformance(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discovery.Registry { return open(t) },
		discoverytest.Options{TTL: time.Second, Propagation: 5 * time.Second, Outage: agentOutage})
}

// agentOutage is a Consul agent of the test's own, killed and started
// again (fresh, empty state) by the suite's Check case.
func agentOutage(t *testing.T) (discovery.Registry, func(), func()) {
	a := newAgent(t)
	a.start(t)
	r, err := discovery.Open(context.Background(), "consul://"+a.addr()+"?wait=2s",
		discovery.WithRetry(10*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return r, a.kill, func() { a.start(t) }
}

// As reaches the Consul client behind the portable Registry.
func TestAsReachesTheClient(t *testing.T) {
	r := open(t)
	defer r.Close()
	var client *api.Client
	if !r.As(&client) || client == nil {
		t.Fatal("As(**api.Client) = false")
	}
	if _, err := client.Status().Leader(); err != nil {
		t.Fatalf("the client As gave does not work: %v", err)
	}
	var wrong *int
	if r.As(&wrong) {
		t.Fatal("As(**int) = true")
	}
}
