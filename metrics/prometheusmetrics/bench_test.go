package prometheusmetrics_test

import (
	"testing"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/prometheusmetrics"
)

func BenchmarkCounterBound(b *testing.B) {
	m := metrics.New(prometheusmetrics.New())
	defer m.Close()
	c := m.Counter("bench_total", metrics.Labels("route")).With("route", "/a")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterWith(b *testing.B) {
	m := metrics.New(prometheusmetrics.New())
	defer m.Close()
	c := m.Counter("bench_total", metrics.Labels("route", "class"))
	b.ReportAllocs()
	for b.Loop() {
		c.With("route", "/a", "class", "2xx").Inc()
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	m := metrics.New(prometheusmetrics.New())
	defer m.Close()
	h := m.Histogram("bench_size").With()
	b.ReportAllocs()
	for b.Loop() {
		h.Observe(42)
	}
}
