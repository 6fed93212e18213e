package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	m, err := metrics.Open(ctx, "mem://?namespace=svc&tag=host:a&tag=zone:b&max_series=1")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := m.Counter("x_total", metrics.Labels("k"))
	c.With("k", "1").Inc()
	c.With("k", "2").Inc()
	snap, _ := m.Snapshot()
	if v := snap.Value("svc.x_total", "k", "1", "host", "a", "zone", "b"); v != 1 {
		t.Errorf("svc.x_total{k=1} = %v, want 1 with the URL's tags: %v", v, snap)
	}
	if v := snap.Value("svc.x_total", "k", metrics.OverflowValue); v != 1 {
		t.Errorf("max_series=1 did not fold the second set: %v", snap)
	}
	for _, raw := range []string{
		"nope://x",
		"mem://?tag=novalue",
		"mem://?max_series=0",
		"mem://?max_series=x",
		"%zz",
	} {
		if _, err := metrics.Open(ctx, raw); err == nil || !strings.HasPrefix(err.Error(), "metrics: open") {
			t.Errorf("Open(%q) = %v, want a metrics: open error", raw, err)
		}
	}
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

func TestTagsDeduplicated(t *testing.T) {
	var errs []error
	m := metrics.NewMemory(metrics.WithTags("env", "a", "env", "b", "dangling"), metrics.WithErrorHandler(func(err error) { errs = append(errs, err) }))
	m.Counter("c").Inc()
	snap, _ := m.Snapshot()
	if fmt.Sprint(snap[0].Labels) != "[{env b}]" {
		t.Errorf("labels = %v, want the last env only", snap[0].Labels)
	}
	if len(errs) != 1 || !errors.Is(errs[0], metrics.ErrInvalidLabels) {
		t.Errorf("errors = %v, want one ErrInvalidLabels for the dangling tag", errs)
	}
}

func TestNamesAndKeysSanitised(t *testing.T) {
	m := metrics.NewMemory(metrics.WithNamespace("a b"), metrics.WithNamespace("c"), metrics.WithTags("bad key", "v"))
	m.Counter("9lives", metrics.Labels("x-y", "x_y", "0k")).Inc()
	m.Gauge("").Set(1)
	m.Histogram(".dot").Observe(1)
	for _, d := range m.Descs() {
		if !validName.MatchString(d.Name) {
			t.Errorf("name %q not sanitised", d.Name)
		}
		if !strings.HasPrefix(d.Name, "a_b.c.") {
			t.Errorf("name %q lacks the nested namespace a_b.c.", d.Name)
		}
	}
	var d *metrics.Desc
	for _, x := range m.Descs() {
		if x.Kind == metrics.KindCounter {
			d = x
		}
	}
	if d.Name != "a_b.c._9lives" || fmt.Sprint(d.Labels) != "[x_y x_y_2 _0k]" || fmt.Sprint(d.Tags) != "[{bad_key v}]" {
		t.Errorf("desc = %+v", d)
	}
}

func TestManyLabels(t *testing.T) {
	m := metrics.NewMemory()
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} // more than With binds inline
	c := m.Counter("wide_total", metrics.Labels(keys...))
	var kv []string
	for _, k := range keys {
		kv = append(kv, k, "v"+k)
	}
	c.With(kv...).Inc()
	c.With(kv...).Inc()
	snap, _ := m.Snapshot()
	if v := snap.Value("wide_total", kv...); v != 2 {
		t.Errorf("wide_total = %v, want 2", v)
	}
}

func TestWithOnUnlabelledMetric(t *testing.T) {
	var errs []error
	m := metrics.NewMemory(metrics.WithErrorHandler(func(err error) { errs = append(errs, err) }))
	c := m.Counter("plain_total")
	if c.With("k", "v") != c {
		t.Error("With on a metric without labels returned another series")
	}
	if len(errs) != 1 || !errors.Is(errs[0], metrics.ErrInvalidLabels) {
		t.Errorf("errors = %v, want one ErrInvalidLabels", errs)
	}
}

func TestRootOfLabelledMetricIsLazy(t *testing.T) {
	m := metrics.NewMemory()
	c := m.Counter("lazy_total", metrics.Labels("k"))
	if snap, _ := m.Snapshot(); len(snap) != 0 {
		t.Fatalf("a labelled metric made a series before use: %v", snap)
	}
	c.Inc()
	c.With("k", "").Inc() // the same series: every label empty
	snap, _ := m.Snapshot()
	if len(snap) != 1 || snap[0].Value != 2 {
		t.Errorf("snapshot = %v, want one series at 2", snap)
	}
	if st := m.Stats(); st.Series != 1 || st.Metrics != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

type sendOnly struct{}

func (sendOnly) Counter(*metrics.Desc, []string) (metrics.CounterSeries, error) {
	return nil, errors.New("refused")
}
func (sendOnly) Gauge(*metrics.Desc, []string) (metrics.GaugeSeries, error)         { return nil, nil }
func (sendOnly) Histogram(*metrics.Desc, []string) (metrics.HistogramSeries, error) { return nil, nil }
func (sendOnly) Close() error                                                       { return nil }

func TestDriverErrors(t *testing.T) {
	var errs []error
	m := metrics.New(sendOnly{}, metrics.WithErrorHandler(func(err error) { errs = append(errs, err) }))
	if _, err := m.Snapshot(); !errors.Is(err, metrics.ErrUnsupported) {
		t.Errorf("Snapshot on a send-only driver: %v, want ErrUnsupported", err)
	}
	c := m.Counter("refused_total")
	c.Inc() // records nothing, does not panic
	c.With("k", "v").Add(1)
	m.Gauge("nil_series").Set(1) // a driver returning no series: reported, no panic
	m.Timer("nil_timer").Observe(1)
	var me *metrics.Error
	if len(errs) == 0 || !errors.As(errs[0], &me) || me.Op != "define" || me.Metric != "refused_total" {
		t.Errorf("errors = %v, want the driver's refusal as a define *Error", errs)
	}
	if n := m.Stats().Errors; n != 4 { // refusal, bad With, two nil series
		t.Errorf("Stats().Errors = %d, want 4: %v", n, errs)
	}
}

func TestRecordingDoesNotAllocate(t *testing.T) {
	m := metrics.NewMemory()
	c := m.Counter("alloc_total", metrics.Labels("route", "class"))
	bound := c.With("route", "/a", "class", "2xx")
	g := m.Gauge("alloc_gauge").With()
	tm := m.Timer("alloc_seconds", metrics.Labels("route")).With("route", "/a")
	for name, f := range map[string]func(){
		"bound Inc":     func() { bound.Inc() },
		"bound Add":     func() { bound.Add(2.5) },
		"With then Inc": func() { c.With("route", "/a", "class", "2xx").Inc() },
		"gauge Set":     func() { g.Set(3) },
		"timer Observe": func() { tm.Observe(5) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

func TestStatusClass(t *testing.T) {
	for code, want := range map[int]string{100: "1xx", 200: "2xx", 302: "3xx", 404: "4xx", 503: "5xx", 0: "error", 700: "error"} {
		if got := metrics.StatusClass(code); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", code, got, want)
		}
	}
}

// FuzzNames checks that whatever a caller names a metric or a label key,
// the backend gets a name every format accepts.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"ok", "", "9", ".", "a b|c:d#e\n", "\xff", "é"} {
		f.Add(s, s)
	}
	validKey := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	f.Fuzz(func(t *testing.T, name, key string) {
		m := metrics.NewMemory()
		m.Counter(name, metrics.Labels(key)).With(key, "v").Inc()
		d := m.Descs()[0]
		if !validName.MatchString(d.Name) || !validKey.MatchString(d.Labels[0]) {
			t.Fatalf("Counter(%q, Labels(%q)) gave %q, %q", name, key, d.Name, d.Labels[0])
		}
		snap, _ := m.Snapshot()
		if snap.Value(d.Name, d.Labels[0], "v") != 1 {
			t.Fatalf("value lost: %v", snap)
		}
	})
}

// FuzzOpen checks that no URL makes Open panic, and that what it accepts works.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{"mem://", "mem://?namespace=a&tag=k:v&max_series=3", "mem://?tag=:", "x://", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := metrics.Open(context.Background(), raw)
		if err != nil {
			return
		}
		defer m.Close()
		m.Counter("c").Inc()
		if _, err := m.Snapshot(); err != nil {
			t.Fatalf("Open(%q) then Snapshot: %v", raw, err)
		}
	})
}

// An infinity is refused like a NaN: no backend can sum it, and statsd's
// line protocol would carry "+Inf" as a delta it cannot parse.
func TestNonFiniteValuesAreInvalid(t *testing.T) {
	var errs []error
	m := metrics.NewMemory(metrics.WithErrorHandler(func(err error) { errs = append(errs, err) }))
	defer m.Close()
	g := m.Gauge("g")
	g.Set(math.Inf(1))
	g.Add(math.Inf(-1))
	m.Histogram("h").Observe(math.Inf(1))
	if len(errs) != 3 {
		t.Fatalf("%d errors for 3 infinite values: %v", len(errs), errs)
	}
	for _, err := range errs {
		if !errors.Is(err, metrics.ErrInvalidValue) {
			t.Fatalf("error %v, want ErrInvalidValue", err)
		}
	}
}

// An error handler that records on the same Metrics (the natural thing
// to do) must not deadlock it.
func TestErrorHandlerMayRecord(t *testing.T) {
	var m *metrics.Metrics
	m = metrics.NewMemory(metrics.WithMaxSeries(1), metrics.WithErrorHandler(func(error) {
		m.Counter("metric_errors_total").Inc()
		m.Counter("c", metrics.Labels("k")).With("k", "z").Inc() // a family at its cap
	}))
	defer m.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Counter("x")
		m.Gauge("x") // a conflict: reported
		c := m.Counter("c", metrics.Labels("k"))
		c.With("k", "a").Inc()
		c.With("k", "b").Inc() // past the cap: the overflow is reported
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("an error handler recording on the same Metrics deadlocked it")
	}
	snap, _ := m.Snapshot()
	if snap.Value("metric_errors_total") < 2 {
		t.Fatalf("metric_errors_total = %v, want the conflict and the overflow", snap.Value("metric_errors_total"))
	}
}
