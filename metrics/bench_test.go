package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
)

func BenchmarkCounterBound(b *testing.B) {
	c := metrics.NewMemory().Counter("bench_total", metrics.Labels("route", "class")).With("route", "/a", "class", "2xx")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterBoundParallel(b *testing.B) {
	c := metrics.NewMemory().Counter("bench_total", metrics.Labels("route", "class")).With("route", "/a", "class", "2xx")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkCounterWith(b *testing.B) {
	c := metrics.NewMemory().Counter("bench_total", metrics.Labels("route", "class"))
	b.ReportAllocs()
	for b.Loop() {
		c.With("route", "/a", "class", "2xx").Inc()
	}
}

func BenchmarkCounterWithParallel(b *testing.B) {
	c := metrics.NewMemory().Counter("bench_total", metrics.Labels("route", "class"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.With("route", "/a", "class", "2xx").Inc()
		}
	})
}

func BenchmarkGaugeSet(b *testing.B) {
	g := metrics.NewMemory().Gauge("bench_gauge")
	b.ReportAllocs()
	for b.Loop() {
		g.Set(42)
	}
}

func BenchmarkTimerObserve(b *testing.B) {
	t := metrics.NewMemory().Timer("bench_seconds")
	b.ReportAllocs()
	for b.Loop() {
		t.Observe(3 * time.Millisecond)
	}
}

func BenchmarkRequestMetricsRecord(b *testing.B) {
	m := metrics.NewMemory()
	rm := metrics.NewRequestMetrics(m, "http.server")
	b.ReportAllocs()
	for b.Loop() {
		rm.Record("GET /users/{id}", "GET", "2xx", time.Millisecond)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	m := metrics.NewMemory()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	h := metrics.Middleware(m)(mux)
	req := httptest.NewRequest("GET", "/users/1", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
