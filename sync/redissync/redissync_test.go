package redissync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/oserr"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/redissync"
	"github.com/microos/go-os/sync/synctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRedis(t *testing.T) {
	addr := testenv.Redis(t)
	synctest.Run(t, synctest.Config{
		NewDriver: func(t *testing.T) ossync.Driver {
			return redissync.NewDriver(redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true}))
		},
		TTL: 2 * time.Second, // renewals confirmed within 1.8 s even on a starved machine (500 ms lost a lease in a stress run)
	})
}

func TestRedisCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t)
	synctest.Run(t, synctest.Config{
		NewDriver: func(t *testing.T) ossync.Driver {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
			t.Cleanup(func() { c.Close() })
			return redissync.NewDriver(c)
		},
		TTL: 2 * time.Second, // renewals confirmed within 1.8 s even on a starved machine (500 ms lost a lease in a stress run)
	})
}

func TestOpen(t *testing.T) {
	addr := testenv.Redis(t)
	ctx := context.Background()
	c, err := ossync.Open(ctx, "redis://"+addr+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rc redis.UniversalClient
	if !c.As(&rc) || rc == nil {
		t.Fatal("As(*redis.UniversalClient) = false")
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ossync.Open(ctx, "redis://"+addr+"/0?bogus=1"); err == nil {
		t.Fatal("unknown parameter accepted")
	}
	cc, err := ossync.Open(ctx, "redis+cluster://"+testenv.RedisCluster(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// The server dies while a lease is held: the lease ends within the TTL
// (its renewals fail), Check says unavailable; the server comes back and
// Lock works again.
func TestRedisKilledWhileHolding(t *testing.T) {
	addr := testenv.FreePort(t)
	srv := testenv.StartRedis(t, addr)
	ctx := context.Background()
	const ttl = time.Second
	c := redissync.New(redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1}),
		ossync.WithTTL(ttl), ossync.WithRetry(10*time.Millisecond, 50*time.Millisecond))
	defer c.Close()
	l, err := c.Lock(ctx, "killed")
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	srv.Process.Kill()
	srv.Wait()
	<-l.Done()
	if took := time.Since(killed); took > ttl {
		t.Fatalf("lease ended %s after the server died, past the TTL %s", took, ttl)
	}
	if !errors.Is(l.Err(), ossync.ErrLost) {
		t.Fatalf("Err = %v, want ErrLost", l.Err())
	}
	t.Logf("TTL %s: lease context cancelled %s after the backend went away", ttl, time.Since(killed).Round(time.Millisecond))
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	err = c.Check(cctx)
	cancel()
	if oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("Check with the server dead: %v, want unavailable", err)
	}
	testenv.StartRedis(t, addr)
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l2, err := c.Lock(lctx, "killed")
	if err != nil {
		t.Fatalf("Lock after the server came back: %v", err)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check after the server came back: %v", err)
	}
	l2.Unlock(ctx)
}
