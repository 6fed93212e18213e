package consulconfig_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/consulconfig"
	"github.com/microos/go-os/internal/testenv"
)

func errorSink() (chan error, config.Option) {
	errs := make(chan error, 64)
	return errs, config.WithErrorHandler(func(err error) {
		select {
		case errs <- err:
		default:
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

func TestConsulDownAtStart(t *testing.T) {
	consul := testenv.Consul(t)
	direct := newClient(t, consul)
	prefix := freshPrefix(t, direct)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := put(ctx, direct, prefix+"db/pool", []byte("40")); err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProxy(t, consul) // not started: Consul is down for this client
	viaProxy := newClient(t, p.Addr())
	defaults := config.NewMemory(map[string]any{"db": map[string]any{"pool": 5}})

	// Strict: New fails, naming the source and the cause.
	_, err := config.New(ctx, []config.Source{defaults, consulconfig.New(viaProxy, prefix)}, config.WithStrictStart())
	var se *config.SourceError
	if !errors.Is(err, config.ErrUnavailable) || !errors.As(err, &se) || se.Source != "consul:"+prefix {
		t.Fatalf("strict New with Consul down: %v, want a *SourceError for consul:%s wrapping ErrUnavailable", err, prefix)
	}

	// Lenient (the default): start from the other sources.
	errs, onError := errorSink()
	cfg, err := config.New(ctx, []config.Source{defaults, consulconfig.New(viaProxy, prefix)},
		onError, config.WithRetry(10*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatalf("New with Consul down: %v", err)
	}
	defer cfg.Close()
	if got := cfg.Get("db", "pool").Int(0); got != 5 {
		t.Fatalf("db.pool = %d, want the default 5 while Consul is down", got)
	}
	if err := <-errs; !errors.Is(err, config.ErrUnavailable) {
		t.Fatalf("reported %v, want ErrUnavailable", err)
	}
	if st := cfg.Status().Sources[1]; st.Healthy() {
		t.Errorf("Consul's status while down = %+v, want unhealthy", st)
	}

	// Consul comes up: the retry loads it.
	p.Start()
	waitFor(t, "Consul's value once it is up", func() bool { return cfg.Get("db", "pool").Int(0) == 40 })
	waitFor(t, "Consul's status to be healthy", func() bool { return cfg.Status().Sources[1].Healthy() })
}

func TestConsulDownLater(t *testing.T) {
	consul := testenv.Consul(t)
	direct := newClient(t, consul)
	prefix := freshPrefix(t, direct)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := put(ctx, direct, prefix+"db/pool", []byte("40")); err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProxy(t, consul)
	p.Start()
	errs, onError := errorSink()
	cfg, err := config.New(ctx, []config.Source{consulconfig.New(newClient(t, p.Addr()), prefix)},
		config.WithStrictStart(), onError, config.WithRetry(10*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	waitFor(t, "the watch to start", func() bool { return cfg.Status().Sources[0].Watching })

	p.Stop()
	select {
	case err := <-errs:
		if !errors.Is(err, config.ErrUnavailable) {
			t.Fatalf("reported %v, want ErrUnavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Consul going down was not reported")
	}
	if got := cfg.Get("db", "pool").Int(0); got != 40 {
		t.Fatalf("db.pool = %d while Consul is down, want the last good 40", got)
	}
	// A change made while this client cannot see Consul...
	if err := put(ctx, direct, prefix+"db/pool", []byte("41")); err != nil {
		t.Fatal(err)
	}
	// ...shows once it can again.
	p.Start()
	waitFor(t, "the change made while down", func() bool { return cfg.Get("db", "pool").Int(0) == 41 })
	waitFor(t, "the watch to resume", func() bool { return cfg.Status().Sources[0].Watching })
}
