// Package metricstest is the conformance suite every metrics backend runs:
// the memory implementation in process, every adapter against its real
// server. It is the specification of what must behave the same everywhere.
//
//	func TestConformance(t *testing.T) {
//		metricstest.Run(t, metricstest.Harness{
//			New:  func(t *testing.T, opts ...metrics.Option) *metrics.Metrics { ... },
//			Read: func(t *testing.T, m *metrics.Metrics) metrics.Snapshot { ... },
//		})
//	}
package metricstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/oserr"
)

// Harness connects the suite to a backend.
type Harness struct {
	// New returns a fresh Metrics on the backend with opts applied (the
	// suite always passes a namespace unique to the test, so that runs never
	// see each other's values on a shared server). The harness closes it in
	// t.Cleanup if it wants to; the suite closes it too.
	New func(t *testing.T, opts ...metrics.Option) *metrics.Metrics

	// Read returns what the backend holds or received from m: it flushes
	// what m buffers and reads the server back. Names may use '_' where m
	// used '.'. The suite calls it repeatedly until what it expects is there
	// (backends that receive over UDP are eventually consistent), so Read
	// must not fail the test for a value that is not there yet.
	Read func(t *testing.T, m *metrics.Metrics) metrics.Snapshot

	// Timeout bounds how long the suite waits for values; 10 s without it.
	Timeout time.Duration

	// LabelValue, when the backend's format rewrites label values the suite
	// uses (the Etsy daemon turns '/' into '-'), returns the value the
	// backend is expected to hold for v. Nil: values read back as recorded.
	LabelValue func(v string) string

	// NoReadAfterClose says the backend is scraped and has nothing to read
	// once closed (Prometheus serving its page): the Close test then checks
	// only that Close is idempotent and that recording after it is harmless.
	NoReadAfterClose bool

	// Cut makes the backend unreachable for the Metrics New returns, as a
	// dead daemon would, and Restore brings it back on the same address;
	// nil for backends with nothing to lose (memory, a scraped registry).
	// Flush sends what m buffers now (nil when Read does nothing else).
	Cut, Restore func(t *testing.T)
	Flush        func(m *metrics.Metrics)

	// Buckets says the backend reads back a histogram's buckets with the
	// metric's own bounds (metrics.Buckets, else metrics.DefaultBuckets):
	// the suite then checks every bucket's count. Buckets a backend reads
	// back without it (a daemon's own layout) are only checked to be
	// well formed.
	Buckets bool
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"Counter", testCounter},
		{"CounterLabels", testCounterLabels},
		{"Gauge", testGauge},
		{"Histogram", testHistogram},
		{"Timer", testTimer},
		{"Tags", testTags},
		{"Overflow", testOverflow},
		{"Concurrent", testConcurrent},
		{"AwkwardLabelValues", testAwkward},
		{"InvalidInput", testInvalid},
		{"Redefine", testRedefine},
		{"Close", testClose},
		{"Check", testCheck},
		{"NilReceivers", testNil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &suite{h: h, ns: "mt" + randomHex(4)}
			tc.run(t, s)
		})
	}
}

type suite struct {
	h  Harness
	ns string
}

func (s *suite) open(t *testing.T, opts ...metrics.Option) *metrics.Metrics {
	t.Helper()
	m := s.h.New(t, append([]metrics.Option{metrics.WithNamespace(s.ns)}, opts...)...)
	t.Cleanup(func() { m.Close() })
	return m
}

// name is the full name a metric has on the backend, normalised.
func (s *suite) name(n string) string { return norm(s.ns + "." + n) }

func norm(name string) string { return strings.ReplaceAll(name, ".", "_") }

// check is one expectation on a snapshot: "" when met, else what differs.
type check func(metrics.Snapshot) string

// eventually polls Read until every check is met.
func (s *suite) eventually(t *testing.T, m *metrics.Metrics, checks ...check) metrics.Snapshot {
	t.Helper()
	timeout := s.h.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		snap := s.h.Read(t, m)
		var failed []string
		for _, c := range checks {
			if msg := c(snap); msg != "" {
				failed = append(failed, msg)
			}
		}
		if len(failed) == 0 {
			return snap
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v:\n%s\nthe backend holds:\n%s", timeout, strings.Join(failed, "\n"), dump(snap, s.ns))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *suite) find(snap metrics.Snapshot, name string, kv ...string) (metrics.Point, bool) {
	if s.h.LabelValue != nil {
		kv = slices.Clone(kv)
		for i := 1; i < len(kv); i += 2 {
			kv[i] = s.h.LabelValue(kv[i])
		}
	}
	for _, p := range snap {
		if norm(p.Name) == name && matches(p, kv) {
			return p, true
		}
	}
	return metrics.Point{}, false
}

func matches(p metrics.Point, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if p.Label(kv[i]) != kv[i+1] {
			return false
		}
	}
	return true
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// value expects the counter or gauge name{kv} to be want.
func (s *suite) value(name string, want float64, kv ...string) check {
	return func(snap metrics.Snapshot) string {
		p, ok := s.find(snap, name, kv...)
		if !ok {
			return fmt.Sprintf("%s%v: missing, want %v", name, kv, want)
		}
		if !approx(p.Value, want) {
			return fmt.Sprintf("%s%v = %v, want %v", name, kv, p.Value, want)
		}
		return ""
	}
}

// dist expects the histogram or timer name{kv} to have count observations summing to sum.
func (s *suite) dist(name string, count uint64, sum float64, kv ...string) check {
	return func(snap metrics.Snapshot) string {
		p, ok := s.find(snap, name, kv...)
		if !ok {
			return fmt.Sprintf("%s%v: missing, want count %d sum %v", name, kv, count, sum)
		}
		if p.Count != count || math.Abs(p.Sum-sum) > 1e-6*math.Max(1, sum) {
			return fmt.Sprintf("%s%v: count %d sum %v, want count %d sum %v", name, kv, p.Count, p.Sum, count, sum)
		}
		return wellFormed(p)
	}
}

// buckets checks a histogram's buckets exactly.
func (s *suite) buckets(name string, want []metrics.Bucket, kv ...string) check {
	return func(snap metrics.Snapshot) string {
		p, ok := s.find(snap, name, kv...)
		if !ok {
			return fmt.Sprintf("%s%v: missing, want buckets %v", name, kv, want)
		}
		if !slices.Equal(p.Buckets, want) {
			return fmt.Sprintf("%s%v: buckets %v, want %v", name, kv, p.Buckets, want)
		}
		return ""
	}
}

// wellFormed is what every histogram's buckets must be, whoever chose the
// bounds: ascending bounds, counts that never go down, +Inf last holding
// every observation.
func wellFormed(p metrics.Point) string {
	if p.Buckets == nil {
		return ""
	}
	for i, b := range p.Buckets {
		if i > 0 && (b.UpperBound <= p.Buckets[i-1].UpperBound || b.Count < p.Buckets[i-1].Count) {
			return fmt.Sprintf("%s%v: buckets out of order at %d: %v", p.Name, p.Labels, i, p.Buckets)
		}
	}
	if last := p.Buckets[len(p.Buckets)-1]; !math.IsInf(last.UpperBound, 1) || last.Count != p.Count {
		return fmt.Sprintf("%s%v: last bucket %v, want +Inf holding count %d", p.Name, p.Labels, last, p.Count)
	}
	return ""
}

func dump(snap metrics.Snapshot, ns string) string {
	var b strings.Builder
	for _, p := range snap {
		if !strings.HasPrefix(norm(p.Name), ns) {
			continue
		}
		fmt.Fprintf(&b, "  %s %v value=%v count=%d sum=%v\n", p.Name, p.Labels, p.Value, p.Count, p.Sum)
	}
	if b.Len() == 0 {
		return "  (nothing in this test's namespace)\n"
	}
	return b.String()
}

func testCounter(t *testing.T, s *suite) {
	m := s.open(t)
	c := m.Counter("requests_total")
	c.Inc()
	c.Inc()
	c.Add(3)
	c.Add(0.5)
	s.eventually(t, m, s.value(s.name("requests_total"), 5.5))
	// Later increments add to what the backend has, across flushes.
	c.Add(4.5)
	s.eventually(t, m, s.value(s.name("requests_total"), 10))
}

func testCounterLabels(t *testing.T, s *suite) {
	m := s.open(t)
	c := m.Counter("hits_total", metrics.Labels("route", "code"))
	ok := c.With("route", "/users", "code", "2xx")
	ok.Add(2)
	ok.Inc()
	c.With("code", "5xx", "route", "/users").Inc() // any order
	c.With("route", "/orders").With("code", "2xx").Add(7)
	s.eventually(t, m,
		s.value(s.name("hits_total"), 3, "route", "/users", "code", "2xx"),
		s.value(s.name("hits_total"), 1, "route", "/users", "code", "5xx"),
		s.value(s.name("hits_total"), 7, "route", "/orders", "code", "2xx"),
	)
}

func testGauge(t *testing.T, s *suite) {
	m := s.open(t)
	g := m.Gauge("queue_depth")
	g.Set(10)
	g.Add(-3)
	g.Add(0.5)
	neg := m.Gauge("temperature", metrics.Labels("room"))
	neg.With("room", "cellar").Set(-4.25)
	s.eventually(t, m,
		s.value(s.name("queue_depth"), 7.5),
		s.value(s.name("temperature"), -4.25, "room", "cellar"),
	)
	g.Set(2)
	neg.With("room", "cellar").Add(1)
	s.eventually(t, m,
		s.value(s.name("queue_depth"), 2),
		s.value(s.name("temperature"), -3.25, "room", "cellar"),
	)
}

func testHistogram(t *testing.T, s *suite) {
	m := s.open(t)
	h := m.Histogram("batch_size", metrics.Labels("queue"), metrics.Buckets(1, 5, 10))
	b := h.With("queue", "mail")
	for _, v := range []float64{1, 2, 3, 8, 20} {
		b.Observe(v)
	}
	checks := []check{s.dist(s.name("batch_size"), 5, 34, "queue", "mail")}
	if s.h.Buckets {
		// 1 is on a bound: buckets include their upper bound.
		checks = append(checks, s.buckets(s.name("batch_size"), []metrics.Bucket{{UpperBound: 1, Count: 1}, {UpperBound: 5, Count: 3}, {UpperBound: 10, Count: 4}, {UpperBound: math.Inf(1), Count: 5}}, "queue", "mail"))
	}
	s.eventually(t, m, checks...)
}

func testTimer(t *testing.T, s *suite) {
	m := s.open(t)
	tm := m.Timer("request_duration_seconds", metrics.Labels("route"))
	r := tm.With("route", "/a")
	r.Observe(100 * time.Millisecond)
	r.Observe(250 * time.Millisecond)
	r.Since(time.Now().Add(-150 * time.Millisecond))
	snap := s.eventually(t, m, func(snap metrics.Snapshot) string {
		p, ok := s.find(snap, s.name("request_duration_seconds"), "route", "/a")
		if !ok || p.Count != 3 {
			return fmt.Sprintf("timer: %+v, want 3 observations", p)
		}
		return ""
	})
	p, _ := s.find(snap, s.name("request_duration_seconds"), "route", "/a")
	// Since measured at least 150 ms; the sum is in seconds on every backend.
	if p.Sum < 0.5 || p.Sum > 0.5+5 {
		t.Errorf("timer sum = %v s, want about 0.5 s (timers read back in seconds)", p.Sum)
	}
	if !s.h.Buckets {
		return
	}
	// The default layout, in seconds: 100 ms falls in ≤ 0.1, the other
	// two above it (how far above Since lands depends on the machine).
	var bounds []float64
	for _, b := range p.Buckets {
		bounds = append(bounds, b.UpperBound)
	}
	if want := append(slices.Clone(metrics.DefaultBuckets), math.Inf(1)); !slices.Equal(bounds, want) {
		t.Fatalf("timer bucket bounds %v, want DefaultBuckets and +Inf %v", bounds, want)
	}
	for _, b := range p.Buckets {
		want := uint64(0)
		switch {
		case b.UpperBound >= 0.1 && b.UpperBound < 0.15:
			want = 1
		case b.UpperBound >= 0.15:
			continue // 1 to 3, as the machine went
		}
		if b.Count != want {
			t.Errorf("timer bucket le=%v holds %d, want %d: %v", b.UpperBound, b.Count, want, p.Buckets)
		}
	}
	if last := p.Buckets[len(p.Buckets)-1]; last.Count != 3 {
		t.Errorf("timer +Inf bucket holds %d, want 3", last.Count)
	}
}

func testTags(t *testing.T, s *suite) {
	m := s.open(t, metrics.WithTags("env", "test", "region", "eu-1"))
	m.Counter("tagged_total", metrics.Labels("route")).With("route", "/x").Inc()
	m.Gauge("tagged_gauge").Set(3)
	s.eventually(t, m,
		s.value(s.name("tagged_total"), 1, "route", "/x", "env", "test", "region", "eu-1"),
		s.value(s.name("tagged_gauge"), 3, "env", "test", "region", "eu-1"),
	)
}

func testOverflow(t *testing.T, s *suite) {
	var mu sync.Mutex
	var errs []error
	m := s.open(t, metrics.WithErrorHandler(func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }))
	c := m.Counter("by_user_total", metrics.Labels("user"), metrics.MaxSeries(3))
	for i := range 5 {
		c.With("user", fmt.Sprint("u", i)).Inc()
	}
	c.With("user", "u0").Inc() // a set seen before the cap still has its series
	c.With("user", "u4").Inc() // folded again
	name := s.name("by_user_total")
	s.eventually(t, m,
		s.value(name, 2, "user", "u0"),
		s.value(name, 1, "user", "u2"),
		s.value(name, 3, "user", metrics.OverflowValue),
		s.value(s.name("metrics.overflow_total"), 3, "metric", s.ns+".by_user_total"),
		func(snap metrics.Snapshot) string {
			if _, ok := s.find(snap, name, "user", "u3"); ok {
				return "u3 has its own series beyond the cap of 3"
			}
			return ""
		},
	)
	if st := m.Stats(); st.Overflowed != 3 {
		t.Errorf("Stats().Overflowed = %d, want 3", st.Overflowed)
	}
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, err := range errs {
		if errors.Is(err, metrics.ErrOverflow) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("ErrOverflow reported %d times, want once: %v", n, errs)
	}
}

func testConcurrent(t *testing.T, s *suite) {
	m := s.open(t)
	c := m.Counter("parallel_total", metrics.Labels("worker"))
	g := m.Gauge("parallel_gauge")
	h := m.Histogram("parallel_hist")
	bound := c.With("worker", "shared")
	// Few observations: statsd's reservoir samples beyond 1000 per interval,
	// and the Etsy daemon's admin interface lists only 100 per timer.
	const workers, each, histEach = 8, 500, 12
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				bound.Inc()
				c.With("worker", fmt.Sprint("w", w%2)).Inc()
				g.Add(1)
				if i < histEach {
					h.Observe(float64(i % 2))
				}
			}
		}()
	}
	wg.Wait()
	name := s.name("parallel_total")
	s.eventually(t, m,
		s.value(name, workers*each, "worker", "shared"),
		s.value(name, workers*each/2, "worker", "w0"),
		s.value(name, workers*each/2, "worker", "w1"),
		s.value(s.name("parallel_gauge"), workers*each),
		s.dist(s.name("parallel_hist"), workers*histEach, workers*histEach/2),
	)
}

// awkward holds the separators of every line protocol a backend may use.
const awkward = "a|b:c#d,e=f;g h\nnext:1|c\t\"q\"\\\x00\xff"

func testAwkward(t *testing.T, s *suite) {
	m := s.open(t, metrics.WithTags("host", "web:1|#x"))
	c := m.Counter("weird_total", metrics.Labels("path"))
	c.With("path", awkward).Add(2)
	m.Counter("bad name|#:\n").Inc()
	after := m.Counter("after_total")
	after.Inc()
	s.eventually(t, m,
		// The line protocol is intact: the metric sent after the awkward
		// ones arrives, and the awkward series arrives with its value,
		// whatever its label became in the backend's format.
		s.value(s.name("after_total"), 1),
		func(snap metrics.Snapshot) string {
			var n float64
			for _, p := range snap {
				if norm(p.Name) == s.name("weird_total") {
					n += p.Value
				}
			}
			if n != 2 {
				return fmt.Sprintf("weird_total sums to %v over its series, want 2", n)
			}
			return ""
		},
		s.value(s.name("bad_name____"), 1),
	)
}

func testInvalid(t *testing.T, s *suite) {
	var mu sync.Mutex
	var errs []error
	m := s.open(t, metrics.WithErrorHandler(func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }))
	c := m.Counter("valid_total", metrics.Labels("k"))
	c.With("k", "v").Add(-1)
	c.With("k", "v").Add(math.NaN())
	c.With("k", "v").Add(math.Inf(1))
	c.With("nope", "x", "k", "v").Add(1) // the unknown key is ignored, the rest recorded
	c.With("k").Add(1)                   // a key without a value
	m.Gauge("valid_gauge").Set(math.NaN())
	m.Histogram("valid_hist").Observe(math.NaN())
	s.eventually(t, m, s.value(s.name("valid_total"), 1, "k", "v"))
	mu.Lock()
	defer mu.Unlock()
	var values, labels int
	for _, err := range errs {
		var me *metrics.Error
		if !errors.As(err, &me) || me.Metric == "" {
			t.Errorf("error %v is not a *metrics.Error naming its metric", err)
		}
		switch {
		case errors.Is(err, metrics.ErrInvalidValue):
			values++
		case errors.Is(err, metrics.ErrInvalidLabels):
			labels++
		}
	}
	if values != 5 || labels != 2 {
		t.Errorf("reported %d invalid values and %d invalid labels, want 5 and 2: %v", values, labels, errs)
	}
	if got := m.Stats().Errors; got != uint64(len(errs)) {
		t.Errorf("Stats().Errors = %d, want %d", got, len(errs))
	}
}

func testRedefine(t *testing.T, s *suite) {
	var mu sync.Mutex
	var errs []error
	m := s.open(t, metrics.WithErrorHandler(func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }))
	a := m.Counter("shared_total", metrics.Labels("k"))
	if b := m.Counter("shared_total", metrics.Labels("k")); a != b {
		t.Error("the same counter defined twice returned two handles")
	}
	m.Gauge("shared_total").Set(99)                                             // another kind
	m.Counter("shared_total", metrics.Labels("other")).With("other", "x").Inc() // other labels
	a.With("k", "v").Inc()
	s.eventually(t, m, s.value(s.name("shared_total"), 1, "k", "v"))
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, err := range errs {
		if errors.Is(err, metrics.ErrRedefined) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("ErrRedefined reported %d times, want 2: %v", n, errs)
	}
}

func testClose(t *testing.T, s *suite) {
	m := s.open(t)
	c := m.Counter("closing_total")
	c.Add(3)
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !s.h.NoReadAfterClose {
		// Close flushed: the value is there without waiting for an interval.
		s.eventually(t, m, s.value(s.name("closing_total"), 3))
	}
	// Recording after Close neither panics nor blocks.
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Inc()
		m.Counter("late_total").Inc()
		m.Timer("late_seconds").Observe(time.Second)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("recording after Close blocked")
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testCheck: healthy, nil; the backend cut, unavailable (with the cause)
// and recording never blocks; back, nil again and values arrive; after
// Shutdown, closed.
func testCheck(t *testing.T, s *suite) {
	m := s.open(t)
	c := m.Counter("check_total")
	c.Inc()
	s.eventually(t, m, s.value(s.name("check_total"), 1))
	// One ctx for every Check of the test, outage included: long enough
	// that a loaded machine does not run it out (1 s did, in a stress run).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Check(ctx); err != nil {
		t.Fatalf("Check of a healthy backend: %v", err)
	}
	if s.h.Cut != nil {
		s.h.Cut(t)
		s.until(t, "Check to say unavailable with the backend cut", func() bool {
			c.Inc()
			s.h.Flush(m)
			err := m.Check(ctx)
			return errors.Is(err, oserr.Unavailable) && errors.Is(err, metrics.ErrUnavailable)
		})
		s.h.Restore(t)
		s.until(t, "Check to be nil with the backend back", func() bool {
			c.Inc()
			s.h.Flush(m)
			return m.Check(ctx) == nil
		})
		// What is recorded once it is back reaches it.
		m.Counter("check_after_total").Add(7)
		s.eventually(t, m, s.value(s.name("check_after_total"), 7))
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := m.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := m.Shutdown(sctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
	if err := m.Check(ctx); !errors.Is(err, metrics.ErrClosed) || oserr.Code(err) != oserr.Closed {
		t.Fatalf("Check after Shutdown = %v, want ErrClosed", err)
	}
}

// until polls cond (each call doing its own work) until it holds or the
// harness timeout passes.
func (s *suite) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := s.h.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

// testNil: a nil *Metrics and its instruments record nothing and never
// panic, as a nil *trace.Tracer.
func testNil(t *testing.T, s *suite) {
	var m *metrics.Metrics
	m.Counter("c").Inc()
	m.Counter("c", metrics.Labels("k")).With("k", "v").Add(2)
	m.Gauge("g").Set(1)
	m.Gauge("g").With("k", "v").Add(1)
	m.Histogram("h").Observe(1)
	m.Histogram("h").With("k", "v").Observe(1)
	m.Timer("t").Observe(time.Second)
	m.Timer("t").With("k", "v").Since(time.Now())
	var c *metrics.Counter
	c.Inc()
	c.Add(1)
	c.With("a", "b").Inc()
	var g *metrics.Gauge
	g.Set(1)
	g.Add(1)
	var h *metrics.Histogram
	h.Observe(1)
	var tm *metrics.Timer
	tm.Observe(1)
	tm.Since(time.Now())
	if err := m.Check(context.Background()); err != nil {
		t.Errorf("nil Check: %v", err)
	}
	var x any
	if m.As(&x) || m.Driver() != nil || m.Stats() != (metrics.Stats{}) || m.Descs() != nil {
		t.Error("nil Metrics answered As, Driver, Stats or Descs")
	}
	if err := m.Shutdown(context.Background()); err != nil || m.Close() != nil {
		t.Errorf("nil Shutdown/Close: %v", err)
	}
}
