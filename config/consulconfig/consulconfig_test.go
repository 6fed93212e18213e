package consulconfig_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configtest"
	"github.com/microos/go-os/config/consulconfig"
	"github.com/microos/go-os/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newClient returns a client of the test Consul whose connections are
// closed when the test ends.
func newClient(t testing.TB, addr string) *api.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.Transport = tr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("consul client: %v", err)
	}
	return c
}

// freshPrefix returns a key prefix no other test uses, deleted at the end.
func freshPrefix(t testing.TB, c *api.Client) string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	prefix := fmt.Sprintf("go-os-test/config/%s-%08x/", name, rand.Uint32())
	t.Cleanup(func() { c.KV().DeleteTree(prefix, nil) })
	return prefix
}

// setTree replaces everything under prefix with tree in one transaction,
// so that a watcher never sees the prefix half-written.
func setTree(ctx context.Context, c *api.Client, prefix string, tree map[string]any) error {
	ops := api.KVTxnOps{{Verb: api.KVDeleteTree, Key: prefix}}
	var walk func(p string, m map[string]any)
	walk = func(p string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(p+k+"/", sub)
				continue
			}
			ops = append(ops, &api.KVTxnOp{Verb: api.KVSet, Key: p + k, Value: []byte(v.(string))})
		}
	}
	walk(prefix, tree)
	ok, resp, _, err := c.KV().Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("transaction rolled back: %v", resp.Errors)
	}
	return nil
}

func put(ctx context.Context, c *api.Client, key string, value []byte) error {
	_, err := c.KV().Put(&api.KVPair{Key: key, Value: value}, (&api.WriteOptions{}).WithContext(ctx))
	return err
}

func TestTreeConformance(t *testing.T) {
	addr := testenv.Consul(t)
	configtest.Run(t, func(t *testing.T) configtest.Backend {
		c := newClient(t, addr)
		prefix := freshPrefix(t, c)
		// The source reaches Consul through a proxy the test can cut.
		p := testenv.NewProxy(t, addr)
		p.Start()
		return configtest.Backend{
			Source:  consulconfig.New(newClient(t, p.Addr()), prefix),
			Cut:     func(*testing.T) { p.Stop() },
			Restore: func(*testing.T) { p.Start() },
			Set: func(ctx context.Context, tree map[string]any) error {
				// The overlays live under the prefix: keep them.
				ops, err := keepOverlays(ctx, c, prefix)
				if err != nil {
					return err
				}
				if err := setTree(ctx, c, prefix, tree); err != nil {
					return err
				}
				return ops(ctx)
			},
			SetOverlay: func(ctx context.Context, env string, tree map[string]any) error {
				return setTree(ctx, c, prefix+env+"/", tree)
			},
		}
	})
}

// keepOverlays saves the prod overlay so that setting the base (which
// deletes the prefix) can restore it.
func keepOverlays(ctx context.Context, c *api.Client, prefix string) (restore func(context.Context) error, err error) {
	pairs, _, err := c.KV().List(prefix+"prod/", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		for _, p := range pairs {
			if err := put(ctx, c, p.Key, p.Value); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func TestDocumentConformance(t *testing.T) {
	addr := testenv.Consul(t)
	configtest.Run(t, func(t *testing.T) configtest.Backend {
		c := newClient(t, addr)
		prefix := freshPrefix(t, c)
		key := prefix + "app.json"
		return configtest.Backend{
			Source: consulconfig.New(c, key, consulconfig.Document("json")),
			Set: func(ctx context.Context, tree map[string]any) error {
				b, err := json.Marshal(tree)
				if err != nil {
					return err
				}
				return put(ctx, c, key, b)
			},
			SetGarbage: func(ctx context.Context) error {
				return put(ctx, c, key, []byte("{\"db\": {\"pool\": \x00garbage"))
			},
			SetOverlay: func(ctx context.Context, env string, tree map[string]any) error {
				b, err := json.Marshal(tree)
				if err != nil {
					return err
				}
				return put(ctx, c, prefix+"app."+env+".json", b)
			},
		}
	})
}

// TestChangeLatency measures how long a Consul write takes to reach a
// watcher of the Config: the issue asks for under a second.
func TestChangeLatency(t *testing.T) {
	c := newClient(t, testenv.Consul(t))
	prefix := freshPrefix(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := put(ctx, c, prefix+"feature/enabled", []byte("false")); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.New(ctx, []config.Source{consulconfig.New(c, prefix)}, config.WithStrictStart())
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	ch := cfg.Watch(ctx, "feature", "enabled")
	var worst time.Duration
	for i := range 5 {
		want := i%2 == 0
		start := time.Now()
		if err := put(ctx, c, prefix+"feature/enabled", []byte(fmt.Sprint(want))); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-ch:
			if v.Bool(!want) != want {
				t.Fatalf("watcher got %v, want %v", v.Interface(), want)
			}
		case <-time.After(time.Second):
			t.Fatalf("change %d not visible to the watcher within 1s", i)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("Consul change visible to a watcher: worst of 5 = %v", worst)
}

func TestOpen(t *testing.T) {
	addr := testenv.Consul(t)
	c := newClient(t, addr)
	prefix := freshPrefix(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := put(ctx, c, prefix+"db/pool", []byte("25")); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, c, prefix+"doc.json", []byte(`{"name":"doc"}`)); err != nil {
		t.Fatal(err)
	}
	srcs, err := config.OpenSources(ctx,
		"consul://"+addr+"/"+prefix,
		"consul://"+addr+"/"+prefix+"doc.json?format=json&wait=1m")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.New(ctx, srcs, config.WithStrictStart())
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	if got := cfg.Get("db", "pool").Int(0); got != 25 {
		t.Errorf("db.pool = %d, want 25", got)
	}
	if got := cfg.Get("name").String(""); got != "doc" {
		t.Errorf("name = %q, want doc", got)
	}
	if _, err := config.OpenSource(ctx, "consul://"+addr+"/x?wait=soon"); err == nil {
		t.Errorf("Open with wait=soon: no error")
	}
}

// The same connection parameters as every Consul adapter, and a misspelt
// one is an error rather than a silently plain-HTTP, token-less client.
func TestOpenParameters(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Consul(t)
	s, err := config.OpenSource(ctx, "consul://"+addr+"/x/?datacenter=dc1&token=&optional=true&wait=1s")
	if err != nil {
		t.Fatalf("Open with known parameters: %v", err)
	}
	if c, ok := s.(interface{ Close() error }); ok {
		c.Close()
	}
	for _, raw := range []string{
		"consul://" + addr + "/x/?tsl=1",
		"consul://" + addr + "/x/?optional=maybe",
		"consul://" + addr + "/x/?wait=-1s",
		"consul://" + addr + "/x/?token=a&token=b",
	} {
		if _, err := config.OpenSource(ctx, raw); err == nil {
			t.Errorf("Open(%q) accepted it", raw)
		}
	}
}

// A Consul that accepts requests and never answers: the first load fails
// as ErrUnavailable by its deadline, and a watch gives up after
// wait + wait/16 + 2 s (instead of watching nothing forever) so that the
// Config's retry and status paths run.
func TestHungConsul(t *testing.T) {
	testenv.Consul(t)
	c := newClient(t, testenv.Hung(t))
	src := consulconfig.New(c, "hung/", consulconfig.WaitTime(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := config.New(ctx, []config.Source{src}, config.WithStrictStart()); !errors.Is(err, config.ErrUnavailable) {
		t.Fatalf("strict start against a hung Consul: %v, want ErrUnavailable", err)
	}
	start := time.Now()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	err := consulconfig.New(c, "hung/", consulconfig.WaitTime(200*time.Millisecond)).Watch(wctx, func() {})
	if !errors.Is(err, config.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Fatalf("Watch against a hung Consul returned %v after %v, want ErrUnavailable within ~2.2 s", err, time.Since(start))
	}
}
