package seams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/router"
	ossync "github.com/microos/go-os/sync"
)

// One error of each class from each package, made by a real call on the
// memory backends: a caller asks its class without knowing the package,
// by errors.Is against the class and by oserr.Code, and still matches the
// package's own sentinel.
func TestEveryPackageErrorHasItsClass(t *testing.T) {
	ctx := context.Background()
	closedKV := kv.NewMemory()
	closedKV.Close()
	store := kv.NewMemory()
	defer store.Close()
	store.Set(ctx, kv.Item{Key: "taken", Value: []byte("x")})

	reg := discovery.NewMemory()
	defer reg.Close()
	closedReg := discovery.NewMemory()
	closedReg.Close()
	failing := discovery.NewMemory()
	defer failing.Close()
	failing.Fail(errors.New("connection refused"))

	rt := router.New(reg)
	defer rt.Close()

	locks := ossync.NewMemory()
	defer locks.Close()
	held, err := locks.TryLock(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock(ctx)

	cfg, err := config.New(ctx, []config.Source{config.NewMemory(map[string]any{"port": "eighty"})})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	var port struct {
		Port int `json:"port"`
	}

	m := metrics.NewMemory()
	defer m.Close()
	m.Counter("orders_total")

	mon := monitor.New()
	mon.Close()

	call := func(err error) error { return err }
	first := func(_ any, err error) error { return err }
	cases := []struct {
		name     string
		err      error
		class    oserr.Class
		sentinel error
	}{
		{"kv get of a missing key", first(store.Get(ctx, "missing")), oserr.NotFound, kv.ErrNotFound},
		{"kv add of a taken key", call(store.Add(ctx, kv.Item{Key: "taken", Value: []byte("y")})), oserr.Exists, kv.ErrExists},
		{"kv cas with a stale version", call(store.CompareAndSwap(ctx, kv.Item{Key: "taken", Value: []byte("z"), Version: 1})), oserr.Conflict, kv.ErrConflict},
		{"kv invalid key", first(store.Get(ctx, "a key with spaces")), oserr.Invalid, kv.ErrInvalidKey},
		{"kv after Close", first(closedKV.Get(ctx, "k")), oserr.Closed, kv.ErrClosed},
		{"discovery unknown service", first(reg.GetService(ctx, "nobody")), oserr.NotFound, discovery.ErrNotFound},
		{"discovery invalid service", call(reg.Register(ctx, &discovery.Service{})), oserr.Invalid, discovery.ErrInvalidService},
		{"discovery backend down", first(failing.GetService(ctx, "orders")), oserr.Unavailable, discovery.ErrUnavailable},
		{"discovery after Close", first(closedReg.ListServices(ctx)), oserr.Closed, discovery.ErrClosed},
		{"router service without nodes", first(rt.Pick(ctx, "nobody", "")), oserr.Unavailable, nil},
		{"sync lock held by another", first(locks.TryLock(ctx, "jobs")), oserr.Conflict, ossync.ErrLocked},
		{"config value of the wrong type", call(cfg.Scan(&port)), oserr.Invalid, nil},
		{"metrics redefined", func() error {
			var got error
			m2 := metrics.NewMemory(metrics.WithErrorHandler(func(err error) { got = err }))
			defer m2.Close()
			m2.Counter("orders_total")
			m2.Gauge("orders_total")
			return got
		}(), oserr.Invalid, metrics.ErrRedefined},
		{"monitor after Close", call(mon.Check(ctx)), oserr.Closed, monitor.ErrClosed},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if got := oserr.Code(c.err); got != c.class {
			t.Errorf("%s: Code(%v) = %v, want %v", c.name, c.err, got, c.class)
		}
		if !errors.Is(c.err, c.class) {
			t.Errorf("%s: errors.Is(%v, oserr.%v) = false", c.name, c.err, c.class)
		}
		if c.sentinel != nil && !errors.Is(c.err, c.sentinel) {
			t.Errorf("%s: errors.Is(%v, %v) = false", c.name, c.err, c.sentinel)
		}
		if oserr.Retryable(c.err) != (c.class == oserr.Unavailable || c.class == oserr.Limited) {
			t.Errorf("%s: Retryable = %v for class %v", c.name, oserr.Retryable(c.err), c.class)
		}
	}
}
