// Package metricsbench compares package metrics with the statsd and
// Prometheus clients people use instead: cactus/go-statsd-client (the
// statsd driver is built on it; statsd_test.go runs one end-to-end
// workload on both sides and checks what reached the socket),
// DataDog/datadog-go with client-side aggregation, and
// prometheus/client_golang, on the hot path of a counter increment.
package metricsbench

import (
	"net"
	"testing"

	ddstatsd "github.com/DataDog/datadog-go/statsd"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/prometheusmetrics"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

// sink is a UDP socket the statsd clients send to; nobody reads it, so the
// kernel drops what overflows its buffer, as a busy daemon would.
func sink(t testing.TB) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().String()
}

// ours returns a Metrics on the statsd driver, sending to addr.
func ours(b *testing.B, addr string) *metrics.Metrics {
	d, err := statsdmetrics.New(addr)
	if err != nil {
		b.Fatal(err)
	}
	m := metrics.New(d)
	b.Cleanup(func() { m.Close() })
	return m
}

func oursBound(addr string, parallel bool) func(*testing.B) {
	return func(b *testing.B) {
		c := ours(b, addr).Counter("requests_total", metrics.Labels("route", "class")).With("route", "/a", "class", "2xx")
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.Inc()
				}
			})
			return
		}
		for range b.N {
			c.Inc()
		}
	}
}

func oursWith(addr string, parallel bool) func(*testing.B) {
	return func(b *testing.B) {
		c := ours(b, addr).Counter("requests_total", metrics.Labels("route", "class"))
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.With("route", "/a", "class", "2xx").Inc()
				}
			})
			return
		}
		for range b.N {
			c.With("route", "/a", "class", "2xx").Inc()
		}
	}
}

func promVec() *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "h"}, []string{"route", "class"})
	prometheus.NewRegistry().MustRegister(v)
	return v
}

func promBound(parallel bool) func(*testing.B) {
	return func(b *testing.B) {
		c := promVec().WithLabelValues("/a", "2xx")
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.Inc()
				}
			})
			return
		}
		for range b.N {
			c.Inc()
		}
	}
}

func promWith(parallel bool) func(*testing.B) {
	return func(b *testing.B) {
		v := promVec()
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					v.WithLabelValues("/a", "2xx").Inc()
				}
			})
			return
		}
		for range b.N {
			v.WithLabelValues("/a", "2xx").Inc()
		}
	}
}

// oursWithClosed is oursWith with Close (the last flush) timed, as the
// datadog-go side's is.
func oursWithClosed(addr string, parallel bool) func(*testing.B) {
	return func(b *testing.B) {
		d, err := statsdmetrics.New(addr)
		if err != nil {
			b.Fatal(err)
		}
		m := metrics.New(d)
		c := m.Counter("requests_total", metrics.Labels("route", "class"))
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.With("route", "/a", "class", "2xx").Inc()
				}
			})
		} else {
			for range b.N {
				c.With("route", "/a", "class", "2xx").Inc()
			}
		}
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func datadog(addr string, parallel bool) func(*testing.B) {
	return func(b *testing.B) {
		c, err := ddstatsd.New(addr, ddstatsd.WithClientSideAggregation(), ddstatsd.WithoutTelemetry())
		if err != nil {
			b.Fatal(err)
		}
		tags := []string{"route:/a", "class:2xx"}
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.Incr("requests_total", tags, 1)
				}
			})
		} else {
			for range b.N {
				c.Incr("requests_total", tags, 1)
			}
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func oursPrometheus(b *testing.B) {
	m := metrics.New(prometheusmetrics.New())
	defer m.Close()
	c := m.Counter("requests_total", metrics.Labels("route", "class")).With("route", "/a", "class", "2xx")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Inc()
	}
}

func TestCompare(t *testing.T) {
	addr := sink(t)
	var cases []compare.Case
	for _, c := range statsdCases {
		cases = append(cases, compare.Case{Name: c.name, Ours: bench(addr, c.ours), Peer: bench(addr, c.peer), Goal: c.goal})
	}
	compare.Run(t, cases...)
	compare.Run(t,
		compare.Case{Name: "counter bound Inc vs prometheus", Ours: oursBound(addr, false), Peer: promBound(false)},
		compare.Case{Name: "counter bound Inc vs prometheus (parallel)", Ours: oursBound(addr, true), Peer: promBound(true)},
		compare.Case{Name: "counter With+Inc vs prometheus WithLabelValues", Ours: oursWith(addr, false), Peer: promWith(false)},
		compare.Case{Name: "counter With+Inc vs prom WithLabelValues (par)", Ours: oursWith(addr, true), Peer: promWith(true)},
		compare.Case{Name: "counter With+Inc vs datadog-go aggregated", Ours: oursWithClosed(addr, false), Peer: datadog(addr, false)},
		compare.Case{Name: "counter With+Inc vs datadog-go aggr. (parallel)", Ours: oursWithClosed(addr, true), Peer: datadog(addr, true)},
		compare.Case{Name: "prometheus driver bound Inc vs prometheus", Ours: oursPrometheus, Peer: promBound(false)},
	)
}
