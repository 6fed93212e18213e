package prometheusmetrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricstest"
	"github.com/microos/go-os/metrics/prometheusmetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The suite scrapes the page the driver serves over HTTP and parses it
// with Prometheus' own text parser.
func TestConformance(t *testing.T) {
	metricstest.Run(t, metricstest.Harness{
		New: func(t *testing.T, opts ...metrics.Option) *metrics.Metrics {
			m, err := metrics.Open(context.Background(), "prometheus://127.0.0.1:0/metrics", opts...)
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
		Read: func(t *testing.T, m *metrics.Metrics) metrics.Snapshot {
			d := m.Driver().(*prometheusmetrics.Driver)
			snap, err := metricstest.Scrape(fmt.Sprintf("http://%s/metrics", d.Addr()))
			if err != nil {
				t.Fatalf("scrape: %v", err)
			}
			return snap
		},
		NoReadAfterClose: true,
		Buckets:          true,
	})
}

// Snapshot (from the registry's Gather, where client_golang leaves the
// +Inf bucket implicit) reads the same buckets as a scrape of the page.
func TestSnapshotBucketsMatchScrape(t *testing.T) {
	d, err := prometheusmetrics.Serve("127.0.0.1:0", "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(d)
	defer m.Close()
	tm := m.Timer("op_seconds", metrics.Labels("op"), metrics.Buckets(0.01, 0.1, 1)).With("op", "get")
	for _, ms := range []int{5, 10, 50, 200, 3000} {
		tm.Observe(time.Duration(ms) * time.Millisecond)
	}
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	scraped, err := metricstest.Scrape(fmt.Sprintf("http://%s/metrics", d.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := snap.Find("op_seconds", "op", "get")
	fromPage, _ := scraped.Find("op_seconds", "op", "get")
	want := []metrics.Bucket{{UpperBound: 0.01, Count: 2}, {UpperBound: 0.1, Count: 3}, {UpperBound: 1, Count: 4}, {UpperBound: math.Inf(1), Count: 5}}
	if !slices.Equal(got.Buckets, want) || !slices.Equal(fromPage.Buckets, want) || got.Count != 5 {
		t.Fatalf("Snapshot buckets %v (count %d), scraped %v, want %v", got.Buckets, got.Count, fromPage.Buckets, want)
	}
}

func TestDefaultRegistry(t *testing.T) {
	m, err := metrics.Open(context.Background(), "prometheus://?namespace=goos_default_test")
	if err != nil {
		t.Fatal(err)
	}
	m.Counter("hits_total").Add(2)
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() == "goos_default_test_hits_total" {
			found = f.GetMetric()[0].GetCounter().GetValue() == 2
		}
	}
	if !found {
		t.Fatal("goos_default_test_hits_total = 2 not in the default registry")
	}
	// A second Metrics on the same registry shares the collector.
	m2, err := metrics.Open(context.Background(), "prometheus://?namespace=goos_default_test")
	if err != nil {
		t.Fatal(err)
	}
	m2.Counter("hits_total").Inc()
	snap, _ := m2.Snapshot()
	if v := snap.Value("goos_default_test_hits_total"); v != 3 {
		t.Errorf("shared counter = %v, want 3", v)
	}
	var conflict error
	m3 := metrics.New(prometheusmetrics.New(prometheusmetrics.WithRegisterer(prometheus.DefaultRegisterer, prometheus.DefaultGatherer)),
		metrics.WithNamespace("goos_default_test"), metrics.WithErrorHandler(func(err error) { conflict = err }))
	m3.Gauge("hits_total").Set(1)
	if !errors.Is(conflict, metrics.ErrRedefined) {
		t.Errorf("a gauge over a registered counter: %v, want ErrRedefined", conflict)
	}
	// Closing the Metrics that adopted the collector leaves it to its owner.
	m2.Close()
	m.Counter("hits_total").Inc()
	if snap, _ := m.Snapshot(); snap.Value("goos_default_test_hits_total") != 4 {
		t.Errorf("after the adopter closed, the owner's counter = %v, want 4", snap.Value("goos_default_test_hits_total"))
	}
	m3.Close()
	m.Close()
	if snap, _ := m2.Snapshot(); len(snap) != 0 {
		for _, p := range snap {
			if strings.HasPrefix(p.Name, "goos_default_test") {
				t.Errorf("%s still registered after every Metrics closed", p.Name)
			}
		}
	}
}

func TestBucketsAndReservedKeys(t *testing.T) {
	d := prometheusmetrics.New()
	m := metrics.New(d, metrics.WithTags("__tag", "x"))
	defer m.Close()
	m.Timer("latency_seconds", metrics.Labels("__route"), metrics.Buckets(1, 0.1, 1)).With("__route", "\xffa").Observe(50 * time.Millisecond)
	families, err := d.Registerer().(prometheus.Gatherer).Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 {
		t.Fatalf("families = %v", families)
	}
	metric := families[0].GetMetric()[0]
	var labels []string
	for _, l := range metric.GetLabel() {
		labels = append(labels, l.GetName()+"="+l.GetValue())
	}
	if got := strings.Join(labels, ","); got != "x__route=\uFFFDa,x__tag=x" {
		t.Errorf("labels = %s, want reserved keys renamed and the value made UTF-8", got)
	}
	var bounds []float64
	for _, b := range metric.GetHistogram().GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	if fmt.Sprint(bounds) != "[0.1 1]" || metric.GetHistogram().GetBucket()[0].GetCumulativeCount() != 1 {
		t.Errorf("buckets = %v, want [0.1 1] with the 50 ms observation in the first", metric.GetHistogram().GetBucket())
	}
}

func TestServeCloseTwice(t *testing.T) {
	d, err := prometheusmetrics.Serve("127.0.0.1:0", "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		d.Close()
		done <- d.Close()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("second Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Close hangs")
	}
}

// Two Metrics sharing a registry: closing one leaves the other's series
// on /metrics (the collector is unregistered when the last owner closes).
func TestSharedRegistryOutlivesOneClose(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1 := metrics.New(prometheusmetrics.New(prometheusmetrics.WithRegisterer(reg, reg)))
	m2 := metrics.New(prometheusmetrics.New(prometheusmetrics.WithRegisterer(reg, reg)))
	m1.Counter("jobs_total").Inc()
	m2.Counter("jobs_total").Inc()
	m1.Close()
	m2.Counter("jobs_total").Inc()
	value := func() float64 {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "jobs_total" {
				return f.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return -1
	}
	if v := value(); v != 3 {
		t.Fatalf("jobs_total = %v after one of two Metrics closed, want 3", v)
	}
	m2.Close()
	if v := value(); v != -1 {
		t.Fatalf("jobs_total still registered (%v) after both closed", v)
	}
}

// Serving the exposition needs no type assertion on Driver: As reaches it.
func TestAsReachesTheHandler(t *testing.T) {
	m := metrics.New(prometheusmetrics.New())
	defer m.Close()
	m.Counter("as_total").Add(2)
	var h http.Handler
	var g prometheus.Gatherer
	if !m.As(&h) || !m.As(&g) {
		t.Fatal("As did not reach the handler or the gatherer")
	}
	var other *int
	if m.As(&other) {
		t.Error("As answered a type it does not have")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(w.Body.String(), "as_total 2") {
		t.Errorf("exposition lacks as_total 2:\n%s", w.Body.String())
	}
	if mfs, err := g.Gather(); err != nil || len(mfs) == 0 {
		t.Errorf("Gather: %v, %d families", err, len(mfs))
	}
}
