package consuldiscovery_test

import (
	"context"
	"testing"
	"time"

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
		discoverytest.Options{TTL: time.Second, Propagation: 5 * time.Second})
}
