package metrics

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/metrics/internal/cell"
)

// OverflowValue is the value of every label of a metric's overflow series,
// into which label sets beyond the metric's cap (WithMaxSeries) are folded.
const OverflowValue = "_overflow"

// overflowMetric counts, per metric, the records folded into its overflow
// series, so that a dashboard shows the cap was hit.
const overflowMetric = "metrics.overflow_total"

// Metrics makes counters, gauges, histograms and timers on one backend.
// A nil *Metrics is a valid no-op: its metrics record nothing, as a nil
// *trace.Tracer's spans do, so that a library can take one optionally.
// Every constructor in this module (New, NewMemory, Open) returns one, so
// name sanitising, namespacing, global tags, label binding and the
// cardinality cap behave the same on every backend.
//
// Defining a metric (Counter, Gauge, ...) takes a lock and is meant for
// start-up; the handles it returns are safe for concurrent use, and
// recording on them never blocks, never fails and, once the label set is
// bound with With, never allocates.
type Metrics struct {
	d         Driver
	ns        string
	tags      []Label
	maxSeries int
	onError   func(error)
	seed      maphash.Seed

	mu       sync.Mutex
	families map[string]definition
	overflow *Counter // overflowMetric, made at the first overflow

	series     atomic.Int64
	errors     atomic.Uint64
	overflowed atomic.Uint64
	closed     atomic.Bool
	closeOnce  sync.Once
	closeErr   error
}

// definition is what the Metrics remembers of a defined metric: its Desc to
// detect conflicting redefinitions, its root handle to return again.
type definition struct {
	desc *Desc
	root any
}

// New returns the portable Metrics in front of a backend's driver. Every
// constructor in this module returns one; a new backend needs only a Driver.
func New(d Driver, opts ...Option) *Metrics {
	o := collect(opts)
	m := &Metrics{
		d:         d,
		ns:        sanitizeName(o.namespace),
		maxSeries: max(o.maxSeries, 1),
		onError:   o.onError,
		seed:      maphash.MakeSeed(),
		families:  map[string]definition{},
	}
	if o.namespace == "" {
		m.ns = ""
	}
	if m.onError == nil && o.logger != nil {
		log := o.logger
		m.onError = func(err error) { log.Warn("metrics", slog.Any("err", err)) }
	}
	for i := 0; i < len(o.tags); i += 2 {
		if i+1 == len(o.tags) {
			m.report(&Error{Op: "tags", Err: fmt.Errorf("%w: tag %q has no value", ErrInvalidLabels, o.tags[i])})
			break
		}
		l := Label{Key: sanitizeKey(o.tags[i]), Value: o.tags[i+1]}
		if j := slices.IndexFunc(m.tags, func(t Label) bool { return t.Key == l.Key }); j >= 0 {
			m.tags[j] = l // the last value of a key wins
		} else {
			m.tags = append(m.tags, l)
		}
	}
	if r, ok := d.(ErrorReporter); ok {
		r.ReportErrorsTo(m.report)
	}
	return m
}

// ErrorReporter is implemented by drivers that fail in the background (a
// flush that cannot reach its daemon); New hands them the Metrics' error
// handler, so that their errors are counted and logged like the others.
type ErrorReporter interface {
	ReportErrorsTo(report func(error))
}

// Counter returns the counter called name, defining it on first use. Asked
// again with the same kind and labels it returns the same counter; with
// another kind or labels it reports ErrRedefined and returns a counter that
// records nothing.
func (m *Metrics) Counter(name string, opts ...MetricOption) *Counter {
	if m == nil {
		return &Counter{s: nopSeries{}}
	}
	return define(m, KindCounter, name, opts, func(f *family[Counter], values []string) *Counter {
		c := &Counter{f: f, values: values}
		if values == nil {
			c.s = lazyCounter{f}
			return c
		}
		s, err := m.d.Counter(f.desc, values)
		if err != nil || s == nil {
			m.defineFailed(f.desc, err)
			s = nopSeries{}
		}
		c.s = s
		if h, ok := s.(cell.Holder); ok {
			c.cell = h.CounterCell()
		}
		return c
	}, func() *Counter { return &Counter{s: nopSeries{}} })
}

// Gauge returns the gauge called name, defining it on first use (see Counter).
func (m *Metrics) Gauge(name string, opts ...MetricOption) *Gauge {
	if m == nil {
		return &Gauge{s: nopSeries{}}
	}
	return define(m, KindGauge, name, opts, func(f *family[Gauge], values []string) *Gauge {
		g := &Gauge{f: f, values: values}
		if values == nil {
			g.s = lazyGauge{f}
			return g
		}
		s, err := m.d.Gauge(f.desc, values)
		if err != nil || s == nil {
			m.defineFailed(f.desc, err)
			s = nopSeries{}
		}
		g.s = s
		return g
	}, func() *Gauge { return &Gauge{s: nopSeries{}} })
}

// Histogram returns the histogram called name, defining it on first use
// (see Counter).
func (m *Metrics) Histogram(name string, opts ...MetricOption) *Histogram {
	if m == nil {
		return &Histogram{s: nopSeries{}}
	}
	return define(m, KindHistogram, name, opts, func(f *family[Histogram], values []string) *Histogram {
		return &Histogram{f: f, values: values, s: m.histogramSeries(f.desc, values, f)}
	}, func() *Histogram { return &Histogram{s: nopSeries{}} })
}

// Timer returns the timer called name, defining it on first use (see
// Counter). A timer is a histogram of durations that every backend records
// in its own unit: seconds on Prometheus, milliseconds on statsd.
func (m *Metrics) Timer(name string, opts ...MetricOption) *Timer {
	if m == nil {
		return &Timer{s: nopSeries{}}
	}
	return define(m, KindTimer, name, opts, func(f *family[Timer], values []string) *Timer {
		return &Timer{f: f, values: values, s: m.histogramSeries(f.desc, values, f)}
	}, func() *Timer { return &Timer{s: nopSeries{}} })
}

func (m *Metrics) histogramSeries(desc *Desc, values []string, f resolver) HistogramSeries {
	if values == nil {
		return lazyHistogram{f}
	}
	s, err := m.d.Histogram(desc, values)
	if err != nil || s == nil {
		m.defineFailed(desc, err)
		return nopSeries{}
	}
	return s
}

// defineFailed reports a driver that could not make a series; the series
// records nothing.
func (m *Metrics) defineFailed(desc *Desc, err error) {
	if err == nil {
		err = fmt.Errorf("%w: the driver returned no series", ErrUnsupported)
	}
	m.report(&Error{Op: "define", Metric: desc.Name, Err: err})
}

// define returns the root handle of the metric name, making its family on
// first use. A root handle of a metric with labels records, when used
// directly, into the series whose labels are all empty, resolved lazily so
// that the series appears only if used.
func define[H any](m *Metrics, kind Kind, name string, opts []MetricOption, handle func(*family[H], []string) *H, nop func() *H) *H {
	var mo metricOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&mo)
		}
	}
	desc := m.describe(kind, name, mo)
	var conflict error
	// The error handler runs after the lock is released (deferred before
	// the unlock, so it runs after it): a handler that records a metric on
	// this same Metrics would otherwise deadlock.
	defer func() {
		if conflict != nil {
			m.report(conflict)
		}
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	if def, ok := m.families[desc.Name]; ok {
		if root, same := def.root.(*H); same && sameShape(def.desc, desc) {
			return root
		}
		conflict = &Error{Op: "define", Metric: desc.Name, Err: fmt.Errorf("%w: already defined as a %s with labels %v, now asked for a %s with labels %v",
			ErrRedefined, def.desc.Kind, def.desc.Labels, desc.Kind, desc.Labels)}
		return nop()
	}
	f := &family[H]{m: m, desc: desc, keys: slices.Clone(mo.labels), max: m.maxSeries, newHandle: handle}
	if mo.maxSeries > 0 {
		f.max = mo.maxSeries
	}
	if len(desc.Labels) == 0 {
		// The only series: made now so that it is exported from the start.
		f.root = f.with(nil, nil)
	} else {
		f.root = handle(f, nil)
	}
	m.families[desc.Name] = definition{desc: desc, root: f.root}
	return f.root
}

func (m *Metrics) describe(kind Kind, name string, mo metricOptions) *Desc {
	full := sanitizeName(name)
	if m.ns != "" {
		full = m.ns + "." + full
	}
	d := &Desc{Name: full, Kind: kind, Help: mo.help}
	seen := map[string]bool{}
	for _, k := range mo.labels {
		k = sanitizeKey(k)
		for base, i := k, 2; seen[k]; i++ {
			k = fmt.Sprintf("%s_%d", base, i)
		}
		seen[k] = true
		d.Labels = append(d.Labels, k)
	}
	for _, t := range m.tags {
		if !seen[t.Key] {
			seen[t.Key] = true
			d.Tags = append(d.Tags, t)
		}
	}
	if kind == KindHistogram || kind == KindTimer {
		d.Buckets = mo.buckets
	}
	if d.Help == "" {
		d.Help = full + " (" + kind.String() + ")"
	}
	return d
}

func sameShape(a, b *Desc) bool {
	return a.Kind == b.Kind && slices.Equal(a.Labels, b.Labels)
}

// report counts err and hands it to the error handler.
func (m *Metrics) report(err error) {
	m.errors.Add(1)
	if m.onError != nil {
		m.onError(err)
	}
}

// Stats is what a Metrics counted.
type Stats struct {
	Metrics    int    // metrics defined
	Series     int64  // distinct label sets made, across all metrics
	Overflowed uint64 // label lookups (With) folded into overflow series
	Errors     uint64 // errors reported (see WithErrorHandler)
}

// Stats returns what the Metrics counted so far.
func (m *Metrics) Stats() Stats {
	if m == nil {
		return Stats{}
	}
	m.mu.Lock()
	n := len(m.families)
	m.mu.Unlock()
	return Stats{Metrics: n, Series: m.series.Load(), Overflowed: m.overflowed.Load(), Errors: m.errors.Load()}
}

// Snapshot returns the value of every series, sorted by name and labels,
// on backends that can read their values back (memory, Prometheus); others
// return ErrUnsupported.
func (m *Metrics) Snapshot() (Snapshot, error) {
	if m == nil {
		return nil, nil
	}
	s, ok := m.d.(Snapshotter)
	if !ok {
		return nil, &Error{Op: "snapshot", Err: ErrUnsupported}
	}
	return s.Snapshot()
}

// Descs describes every metric defined so far, sorted by name: what a
// monitoring page lists, and what a test reading a backend back needs to
// know of each name.
func (m *Metrics) Descs() []*Desc {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	out := make([]*Desc, 0, len(m.families))
	for _, def := range m.families {
		out = append(out, def.desc)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b *Desc) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Driver returns the backend's driver (nil for a nil *Metrics). To reach
// the backend's client, As is the way that needs no type assertion.
func (m *Metrics) Driver() Driver {
	if m == nil {
		return nil
	}
	return m.d
}

// As sets *target to the backend's client when the driver has one of
// that type, and reports whether it did (gocloud.dev's escape hatch):
//
//	var h http.Handler
//	if m.As(&h) { mux.Handle("/metrics", h) } // Prometheus exposition
//
// The Prometheus driver answers *http.Handler, *prometheus.Gatherer and
// *prometheus.Registerer; the statsd driver *statsd.Statter (cactus) and
// **statsdmetrics.Driver (for Stats and Flush).
func (m *Metrics) As(target any) bool {
	if m == nil {
		return false
	}
	if a, ok := m.d.(interface{ As(any) bool }); ok {
		return a.As(target)
	}
	return false
}

// Check reports the backend's health: nil while the driver delivers (or
// has nothing to deliver: memory, a Prometheus registry that is scraped),
// else an error wrapping ErrUnavailable with the last failure and its age
// (statsd: packets the daemon refused). After Shutdown it returns
// ErrClosed. It makes no call of its own, never blocks and is safe for
// concurrent use. A nil *Metrics is healthy.
func (m *Metrics) Check(ctx context.Context) error {
	if m == nil {
		return nil
	}
	if m.closed.Load() {
		return ErrClosed // whatever ctx says: closed is the answer
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c, ok := m.d.(Checker); ok {
		return c.Check(ctx)
	}
	return nil
}

// Shutdown flushes what the backend buffers (statsd's last packets) and
// releases what it owns (the Prometheus server Serve started), within
// ctx; what is recorded afterwards is dropped. It is idempotent: later
// calls return the first one's result.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil {
		return nil
	}
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		if s, ok := m.d.(Shutdowner); ok {
			m.closeErr = s.Shutdown(ctx)
			return
		}
		m.closeErr = m.d.Close()
	})
	return m.closeErr
}

// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s).
func (m *Metrics) Close() error { return lifecycle.Close(m.Shutdown) }

// Counter is a running total that only goes up. The *Counter a Metrics
// returns records into the series whose labels are all empty; With binds
// labels and returns the counter of that series.
type Counter struct {
	f      *family[Counter]
	values []string
	s      CounterSeries
	cell   *cell.Counter // s's accumulator, when the backend has one (memory, statsd)
}

// Add adds delta, which must be finite and ≥ 0 (ErrInvalidValue otherwise).
func (c *Counter) Add(delta float64) {
	if c == nil {
		return
	}
	if !(delta >= 0 && delta <= math.MaxFloat64) {
		c.f.invalid("add", delta)
		return
	}
	if c.cell != nil {
		c.cell.Add(delta)
		return
	}
	c.s.Add(delta)
}

// Inc adds 1.
func (c *Counter) Inc() {
	if c == nil {
		return
	}
	if c.cell != nil {
		c.cell.Inc()
		return
	}
	c.s.Add(1)
}

// With returns the counter of the series whose labels are c's with the
// given key/value pairs bound: With("route", "/users", "code", "2xx").
// Keep the result to record on it repeatedly: binding costs a lookup.
func (c *Counter) With(kv ...string) *Counter {
	if c == nil || c.f == nil {
		return c
	}
	return c.f.with(c.values, kv)
}

// Gauge is a value that goes up and down.
type Gauge struct {
	f      *family[Gauge]
	values []string
	s      GaugeSeries
}

// Set sets the value; a NaN or an infinity is ErrInvalidValue.
func (g *Gauge) Set(v float64) {
	if g == nil {
		return
	}
	if !finite(v) {
		g.f.invalid("set", v)
		return
	}
	g.s.Set(v)
}

// Add adds delta (negative to subtract); a NaN or an infinity is ErrInvalidValue.
func (g *Gauge) Add(delta float64) {
	if g == nil {
		return
	}
	if !finite(delta) {
		g.f.invalid("add", delta)
		return
	}
	g.s.Add(delta)
}

// With returns the gauge of the series with the given labels bound (see Counter.With).
func (g *Gauge) With(kv ...string) *Gauge {
	if g == nil || g.f == nil {
		return g
	}
	return g.f.with(g.values, kv)
}

// Histogram records a distribution of values (sizes, counts per batch).
type Histogram struct {
	f      *family[Histogram]
	values []string
	s      HistogramSeries
}

// Observe records v; a NaN or an infinity is ErrInvalidValue.
func (h *Histogram) Observe(v float64) {
	if h == nil {
		return
	}
	if !finite(v) {
		h.f.invalid("observe", v)
		return
	}
	h.s.Observe(v)
}

// With returns the histogram of the series with the given labels bound (see Counter.With).
func (h *Histogram) With(kv ...string) *Histogram {
	if h == nil || h.f == nil {
		return h
	}
	return h.f.with(h.values, kv)
}

// Timer records a distribution of durations.
type Timer struct {
	f      *family[Timer]
	values []string
	s      HistogramSeries
}

// Observe records d.
func (t *Timer) Observe(d time.Duration) {
	if t != nil {
		t.s.Observe(d.Seconds())
	}
}

// Since records the time elapsed since start: defer t.Since(time.Now()).
func (t *Timer) Since(start time.Time) {
	if t != nil {
		t.s.Observe(time.Since(start).Seconds())
	}
}

// With returns the timer of the series with the given labels bound (see Counter.With).
func (t *Timer) With(kv ...string) *Timer {
	if t == nil || t.f == nil {
		return t
	}
	return t.f.with(t.values, kv)
}

// nopSeries records nothing: the series of a metric that could not be defined.
type nopSeries struct{}

func (nopSeries) Add(float64)     {}
func (nopSeries) Set(float64)     {}
func (nopSeries) Observe(float64) {}

// resolver finds the handle of the all-empty label set, for the lazy series
// of root handles.
type resolver interface{ emptySeries() any }

type lazyCounter struct{ f *family[Counter] }

func (l lazyCounter) Add(d float64) { l.f.with(nil, nil).s.Add(d) }

type lazyGauge struct{ f *family[Gauge] }

func (l lazyGauge) Set(v float64) { l.f.with(nil, nil).s.Set(v) }
func (l lazyGauge) Add(d float64) { l.f.with(nil, nil).s.Add(d) }

type lazyHistogram struct{ f resolver }

func (l lazyHistogram) Observe(v float64) {
	switch h := l.f.emptySeries().(type) {
	case *Histogram:
		h.s.Observe(v)
	case *Timer:
		h.s.Observe(v)
	}
}

// sanitizeName maps name onto [A-Za-z0-9_.], never starting with a digit
// or a dot, so that every backend's line protocol stays intact.
func sanitizeName(name string) string { return sanitize(name, true) }

// sanitizeKey maps a label key onto [A-Za-z_][A-Za-z0-9_]*.
func sanitizeKey(key string) string { return sanitize(key, false) }

func sanitize(s string, dots bool) string {
	ok := s != "" && !(s[0] >= '0' && s[0] <= '9') && s[0] != '.'
	for i := 0; ok && i < len(s); i++ {
		ok = isNameByte(s[i], dots)
	}
	if ok {
		return s
	}
	var b strings.Builder
	if s == "" || (s[0] >= '0' && s[0] <= '9') || s[0] == '.' {
		b.WriteByte('_')
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; isNameByte(c, dots) {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func isNameByte(c byte, dots bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || dots && c == '.'
}

// finite reports whether v is neither NaN nor an infinity (which the
// statsd line protocol cannot carry, and no backend can sum): both make
// v-v a NaN.
func finite(v float64) bool { return v-v == 0 }
