// Package configtest is the conformance suite every config.Source runs:
// the memory source and the file source in package config, and every
// adapter (consulconfig) against its real backend. The suite is the
// specification of a Source; when a behaviour matters it is here.
package configtest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/oserr"
)

// Backend is one fresh, isolated source under test and the means to
// change what it holds.
type Backend struct {
	// Source reads the backend's location (a temporary file, a fresh
	// Consul prefix).
	Source config.Source
	// Set replaces everything the source holds with tree: nested
	// map[string]any whose leaves are strings.
	Set func(ctx context.Context, tree map[string]any) error
	// SetGarbage makes the source hold something that does not parse; nil
	// when the source cannot hold garbage (memory, a Consul key tree).
	SetGarbage func(ctx context.Context) error
	// SetOverlay replaces what the overlay for env holds; nil when the
	// source is not an Overlayer.
	SetOverlay func(ctx context.Context, env string, tree map[string]any) error
	// Cut makes the backend unreachable for Source, as a dead server would
	// (a testenv.Proxy stopped), and Restore brings it back on the same
	// address; nil when the source has no backend to lose (memory, file).
	Cut, Restore func(t *testing.T)
}

// Timeout bounds every wait of the suite for a change to show.
var Timeout = 10 * time.Second

// Run runs the suite. newBackend is called once per subtest and returns an
// isolated backend whose content each subtest sets first.
//
// The subtests for what a source cannot do (watch, hold garbage, have
// overlays) are not run for it, rather than skipped, so that a skip always
// means a missing backend.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	probe := newBackend(t)
	_, watcher := probe.Source.(config.Watcher)
	_, overlayer := probe.Source.(config.Overlayer)
	t.Run("LoadReturnsTree", func(t *testing.T) { testLoad(t, newBackend(t)) })
	t.Run("LoadHonoursContext", func(t *testing.T) { testLoadContext(t, newBackend(t)) })
	t.Run("ConcurrentLoads", func(t *testing.T) { testConcurrentLoads(t, newBackend(t)) })
	t.Run("ConfigMergesSource", func(t *testing.T) { testConfigMerges(t, newBackend(t)) })
	if watcher {
		t.Run("WatchDeliversChange", func(t *testing.T) { testWatch(t, newBackend(t)) })
		t.Run("WatchStopsWithContext", func(t *testing.T) { testWatchStops(t, newBackend(t)) })
	}
	if probe.SetGarbage != nil {
		t.Run("GarbageKeepsLastGood", func(t *testing.T) { testGarbage(t, newBackend(t)) })
	}
	t.Run("CheckHealthy", func(t *testing.T) { testCheckHealthy(t, newBackend(t)) })
	if probe.Cut != nil {
		t.Run("CheckBackendDown", func(t *testing.T) { testCheckDown(t, newBackend(t)) })
	}
	if overlayer && probe.SetOverlay != nil {
		t.Run("Overlay", func(t *testing.T) { testOverlay(t, newBackend) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

func set(t *testing.T, b Backend, tree map[string]any) {
	t.Helper()
	if err := b.Set(ctxFor(t), tree); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func newConfig(t *testing.T, srcs []config.Source, opts ...config.Option) *config.Config {
	t.Helper()
	opts = append([]config.Option{config.WithRetry(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	c, err := config.New(ctxFor(t), srcs, opts...)
	if err != nil {
		t.Fatalf("config.New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// eventually polls cond until it holds or Timeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

var sample = map[string]any{
	"service": map[string]any{"name": "billing", "port": "8080"},
	"db":      map[string]any{"pool": "10", "timeout": "1.5s", "replica": map[string]any{"host": "db2"}},
	"debug":   "true",
}

func testLoad(t *testing.T, b Backend) {
	set(t, b, sample)
	tree, err := b.Source.Load(ctxFor(t))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c := newConfig(t, []config.Source{config.NewMemory(tree)})
	if got := c.Get().Interface(); !reflect.DeepEqual(got, sample) {
		t.Fatalf("Load returned\n%v\nwant\n%v", got, sample)
	}
	if got := c.Get("db", "pool").Int(0); got != 10 {
		t.Errorf(`Get("db", "pool").Int = %d, want 10`, got)
	}
	if got := c.Get("db", "timeout").Duration(0); got != 1500*time.Millisecond {
		t.Errorf(`Get("db", "timeout").Duration = %v, want 1.5s`, got)
	}
	if b.Source.Name() == "" {
		t.Errorf("Name is empty")
	}

	set(t, b, map[string]any{"only": "this"})
	tree, err = b.Source.Load(ctxFor(t))
	if err != nil {
		t.Fatalf("Load after Set: %v", err)
	}
	if want := map[string]any{"only": "this"}; !reflect.DeepEqual(tree, want) {
		t.Fatalf("after Set replaced everything, Load = %v, want %v", tree, want)
	}
}

// testConfigMerges checks the source as one layer of a Config: a memory
// source below it supplies defaults, one above it overrides it.
func testConfigMerges(t *testing.T, b Backend) {
	set(t, b, sample)
	defaults := config.NewMemory(map[string]any{"db": map[string]any{"pool": "1", "max_idle": "2"}, "region": "eu"})
	overrides := config.NewMemory(map[string]any{"service": map[string]any{"port": "9999"}})
	c := newConfig(t, []config.Source{defaults, b.Source, overrides}, config.WithStrictStart())
	for _, tc := range []struct {
		path []string
		want string
	}{
		{[]string{"db", "pool"}, "10"},    // the source overrides the default
		{[]string{"db", "max_idle"}, "2"}, // maps merge: the default stays
		{[]string{"region"}, "eu"},
		{[]string{"service", "port"}, "9999"}, // the later source overrides
		{[]string{"service", "name"}, "billing"},
	} {
		if got := c.Get(tc.path...).String(""); got != tc.want {
			t.Errorf("Get(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	st := c.Status()
	if len(st.Sources) != 3 || st.Sources[1].Name != b.Source.Name() || !st.Sources[1].Healthy() {
		t.Errorf("Status().Sources = %+v, want the source second and healthy", st.Sources)
	}
}

func testLoadContext(t *testing.T, b Backend) {
	set(t, b, sample)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Source.Load(ctx); err == nil {
		t.Fatalf("Load with a cancelled ctx returned no error")
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled ctx: %v, want it to wrap context.Canceled", err)
	}
}

func testConcurrentLoads(t *testing.T, b Backend) {
	set(t, b, sample)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := b.Source.Load(ctxFor(t)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Load: %v", err)
	}
}

func testWatch(t *testing.T, b Backend) {
	set(t, b, sample)
	c := newConfig(t, []config.Source{b.Source})
	ch := c.Watch(ctxFor(t), "db")

	// A change elsewhere is not delivered to a watcher of db.
	other := deepCopy(sample)
	other["service"].(map[string]any)["port"] = "9090"
	set(t, b, other)
	eventually(t, "service.port to become 9090", func() bool { return c.Get("service", "port").Int(0) == 9090 })
	select {
	case v := <-ch:
		t.Fatalf("watcher of db got %v after only service changed", v.Interface())
	default:
	}

	changed := deepCopy(other)
	changed["db"].(map[string]any)["pool"] = "20"
	start := time.Now()
	set(t, b, changed)
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("watch channel closed")
		}
		if got := v.Map(nil)["pool"]; got != "20" {
			t.Fatalf("watcher got db = %v, want pool 20", v.Interface())
		}
		t.Logf("%s: change visible to a watcher after %v", b.Source.Name(), time.Since(start))
	case <-time.After(Timeout):
		t.Fatalf("no change delivered within %v", Timeout)
	}
	if got := c.Get("db", "pool").Int(0); got != 20 {
		t.Errorf("after the watcher was told, Get = %d, want 20", got)
	}
}

func testWatchStops(t *testing.T, b Backend) {
	w := b.Source.(config.Watcher)
	set(t, b, sample)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() { done <- w.Watch(ctx, func() { once.Do(func() { close(started) }) }) }()
	select {
	case <-started: // Watch calls changed once it watches
	case err := <-done:
		t.Fatalf("Watch returned before ctx was cancelled: %v", err)
	case <-time.After(Timeout):
		t.Fatalf("Watch did not call changed once watching, within %v", Timeout)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch returned %v after ctx was cancelled, want nil", err)
		}
	case <-time.After(Timeout):
		t.Fatalf("Watch did not return within %v of ctx being cancelled", Timeout)
	}
}

func testGarbage(t *testing.T, b Backend) {
	set(t, b, sample)
	if err := b.SetGarbage(ctxFor(t)); err != nil {
		t.Fatalf("SetGarbage: %v", err)
	}
	if _, err := b.Source.Load(ctxFor(t)); !errors.Is(err, config.ErrParse) {
		t.Fatalf("Load of garbage: %v, want ErrParse", err)
	}

	set(t, b, sample)
	errs := make(chan error, 16)
	c := newConfig(t, []config.Source{b.Source}, config.WithPollInterval(20*time.Millisecond),
		config.WithErrorHandler(func(err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err := b.SetGarbage(ctxFor(t)); err != nil {
		t.Fatalf("SetGarbage: %v", err)
	}
	select {
	case err := <-errs:
		var se *config.SourceError
		if !errors.Is(err, config.ErrParse) || !errors.As(err, &se) || se.Source != b.Source.Name() {
			t.Fatalf("reported %v, want a *SourceError for %s wrapping ErrParse", err, b.Source.Name())
		}
	case <-time.After(Timeout):
		t.Fatalf("garbage was not reported within %v", Timeout)
	}
	if got := c.Get("db", "pool").Int(0); got != 10 {
		t.Fatalf("after garbage, db.pool = %d, want the last good 10", got)
	}
	if st := c.Status().Sources[0]; st.Healthy() || !errors.Is(st.LastError, config.ErrParse) {
		t.Errorf("Status after garbage = %+v, want unhealthy with ErrParse", st)
	}

	fixed := deepCopy(sample)
	fixed["db"].(map[string]any)["pool"] = "30"
	set(t, b, fixed)
	eventually(t, "the fixed source to load", func() bool { return c.Get("db", "pool").Int(0) == 30 })
	eventually(t, "the status to be healthy", func() bool { return c.Status().Sources[0].Healthy() })
}

func testOverlay(t *testing.T, newBackend func(t *testing.T) Backend) {
	b := newBackend(t)
	set(t, b, map[string]any{"db": map[string]any{"host": "db1", "pool": "10"}, "name": "app"})
	if err := b.SetOverlay(ctxFor(t), "prod", map[string]any{"db": map[string]any{"pool": "50"}}); err != nil {
		t.Fatalf("SetOverlay: %v", err)
	}

	prod := newConfig(t, []config.Source{b.Source}, config.WithEnvironment("prod"))
	want := map[string]any{"db": map[string]any{"host": "db1", "pool": "50"}, "name": "app"}
	if got := prod.Get().Interface(); !reflect.DeepEqual(got, want) {
		t.Fatalf("prod = %v, want %v", got, want)
	}

	// An environment without an overlay is the base, without error.
	none := newConfig(t, []config.Source{b.Source}, config.WithEnvironment("staging"), config.WithStrictStart())
	want = map[string]any{"db": map[string]any{"host": "db1", "pool": "10"}, "name": "app"}
	if got := none.Get().Interface(); !reflect.DeepEqual(got, want) {
		t.Fatalf("staging (no overlay) = %v, want %v", got, want)
	}

	if _, ok := b.Source.(config.Watcher); ok {
		if err := b.SetOverlay(ctxFor(t), "prod", map[string]any{"db": map[string]any{"pool": "60"}}); err != nil {
			t.Fatalf("SetOverlay: %v", err)
		}
		eventually(t, "the overlay change to show", func() bool { return prod.Get("db", "pool").Int(0) == 60 })
	}
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}

// CheckDecode is the body of a format's fuzz test: data either fails to
// decode with an error wrapping config.ErrParse, or decodes to a tree that
// makes a Config which reads and prints.
func CheckDecode(t *testing.T, format string, data []byte) {
	t.Helper()
	tree, err := config.Decode(format, data)
	if err != nil {
		if !errors.Is(err, config.ErrParse) {
			t.Fatalf("error %v does not wrap ErrParse", err)
		}
		return
	}
	c, err := config.New(context.Background(), []config.Source{staticSource(tree)}, config.WithStrictStart())
	if err != nil {
		t.Fatalf("a decoded document made New fail: %v", err)
	}
	defer c.Close()
	_ = c.Snapshot().String()
}

type staticSource map[string]any

func (s staticSource) Name() string                                 { return "static" }
func (s staticSource) Load(context.Context) (map[string]any, error) { return s, nil }

// checkCtx bounds one Check: it must answer from memory, well within.
func checkCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testCheckHealthy(t *testing.T, b Backend) {
	set(t, b, sample)
	c := newConfig(t, []config.Source{b.Source})
	if err := c.Check(checkCtx(t)); err != nil {
		t.Fatalf("Check of a healthy source: %v", err)
	}
	if err := c.Reload(ctxFor(t)); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if err := c.Check(checkCtx(t)); err != nil {
		t.Fatalf("Check after a reload: %v", err)
	}
	c.Close()
	if err := c.Check(checkCtx(t)); !errors.Is(err, config.ErrClosed) || oserr.Code(err) != oserr.Closed {
		t.Fatalf("Check after Close = %v, want ErrClosed", err)
	}
}

// testCheckDown: the backend lost, Check says unavailable (with the last
// failure) while reads keep the last good snapshot; back, Check is nil.
func testCheckDown(t *testing.T, b Backend) {
	set(t, b, sample)
	c := newConfig(t, []config.Source{b.Source})
	if err := c.Check(checkCtx(t)); err != nil {
		t.Fatalf("Check before the cut: %v", err)
	}
	b.Cut(t)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := c.Reload(ctx); err == nil {
		t.Fatal("Reload with the backend cut succeeded")
	}
	err := c.Check(checkCtx(t))
	if !errors.Is(err, oserr.Unavailable) || !errors.Is(err, config.ErrUnavailable) {
		t.Fatalf("Check with the backend cut = %v (class %v), want ErrUnavailable", err, oserr.Code(err))
	}
	if got := c.Get("service", "name").String(""); got != "billing" {
		t.Errorf("reads during the outage: %q, want the last good value", got)
	}
	b.Restore(t)
	eventually(t, "Check to be nil once the backend is back", func() bool {
		c.Reload(ctx)
		return c.Check(checkCtx(t)) == nil
	})
}
