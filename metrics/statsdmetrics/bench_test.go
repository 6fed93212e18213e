package statsdmetrics_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

func benchMetrics(b *testing.B, opts ...statsdmetrics.Option) (*metrics.Metrics, *statsdmetrics.Driver) {
	r := listen(b, "127.0.0.1:0")
	d, err := statsdmetrics.New(r.addr(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	m := metrics.New(d)
	b.Cleanup(func() { m.Close() })
	return m, d
}

func BenchmarkCounterBound(b *testing.B) {
	m, _ := benchMetrics(b)
	c := m.Counter("bench_total", metrics.Labels("route")).With("route", "/a")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterBoundParallel(b *testing.B) {
	m, _ := benchMetrics(b)
	c := m.Counter("bench_total", metrics.Labels("route")).With("route", "/a")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkCounterWithParallel(b *testing.B) {
	m, _ := benchMetrics(b)
	c := m.Counter("bench_total", metrics.Labels("route", "class"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.With("route", "/a", "class", "2xx").Inc()
		}
	})
}

func BenchmarkTimerObserve(b *testing.B) {
	m, _ := benchMetrics(b)
	t := m.Timer("bench_seconds").With()
	b.ReportAllocs()
	for b.Loop() {
		t.Observe(time.Millisecond)
	}
}

// BenchmarkFlush1000Series measures one flush of 1000 counter series
// (formatting and batching into packets); it runs on the flush goroutine,
// never on a caller's.
func BenchmarkFlush1000Series(b *testing.B) {
	m, d := benchMetrics(b, statsdmetrics.WithFlushInterval(time.Hour))
	c := m.Counter("bench_total", metrics.Labels("n"), metrics.MaxSeries(1000))
	series := make([]*metrics.Counter, 1000)
	for i := range series {
		series[i] = c.With("n", strconv.Itoa(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range series {
			s.Inc()
		}
		d.Flush()
	}
}
