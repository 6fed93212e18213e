package consulsync_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/consulsync"
	"github.com/microos/go-os/sync/synctest"
)

// The consul/api client's pooled HTTP connections idle in their own
// goroutines; they are the client's, not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"))
}

func client(t *testing.T) *api.Client {
	cfg := api.DefaultConfig()
	cfg.Address = testenv.Consul(t)
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConsul(t *testing.T) {
	c := client(t)
	synctest.Run(t, synctest.Config{
		NewDriver: func(t *testing.T) ossync.Driver { return consulsync.NewDriver(c) },
		TTL:       consulsync.MinTTL,
		Expiry:    2 * consulsync.MinTTL,
	})
}

func TestOpen(t *testing.T) {
	addr := testenv.Consul(t)
	ctx := context.Background()
	// The client Open made is the Client's: Close leaves none of its
	// connections' goroutines behind (checked after the deferred Close).
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c, err := ossync.Open(ctx, "consul://"+addr, ossync.WithTTL(consulsync.MinTTL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ac *api.Client
	if !c.As(&ac) || ac == nil {
		t.Fatal("As(**api.Client) = false")
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ossync.Open(ctx, "consul://"+addr+"?bogus=1"); err == nil {
		t.Fatal("unknown parameter accepted")
	}
	if _, err := c.TryLock(ctx, "short-ttl", ossync.WithTTL(time.Second)); err == nil {
		t.Fatal("a TTL under Consul's minimum was accepted")
	}
	l, err := c.TryLock(ctx, "open-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
