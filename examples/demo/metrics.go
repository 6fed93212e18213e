package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/prometheusmetrics"
)

// demoMetrics instruments a small HTTP service with metrics.Middleware and
// its client with metrics.Transport, sends it a few requests in process
// (no sockets), and prints what the memory backend recorded; then it shows
// the same request metrics as a Prometheus scrape would read them.
func demoMetrics(ctx context.Context, w io.Writer) error {
	m := metrics.NewMemory(metrics.WithNamespace("demo"), metrics.WithTags("instance", "demo-1"))
	defer m.Close()
	if err := serveSome(ctx, m); err != nil {
		return err
	}

	// A cardinality guard: a label fed with user IDs folds into one series.
	logins := m.Counter("logins_total", metrics.Labels("user"), metrics.MaxSeries(3))
	for i := range 10 {
		logins.With("user", fmt.Sprint("user-", i)).Inc()
	}

	snap, err := m.Snapshot()
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "memory backend, after 6 requests through Middleware and Transport:")
	for _, p := range snap {
		var labels []string
		for _, l := range p.Labels {
			if l.Key != "instance" {
				labels = append(labels, l.Key+"="+l.Value)
			}
		}
		switch p.Kind {
		case metrics.KindTimer, metrics.KindHistogram:
			fmt.Fprintf(w, "  %-44s %-48s count=%d\n", p.Name, strings.Join(labels, " "), p.Count)
		default:
			fmt.Fprintf(w, "  %-44s %-48s %g\n", p.Name, strings.Join(labels, " "), p.Value)
		}
	}
	st := m.Stats()
	fmt.Fprintf(w, "  stats: %d metrics, %d series, %d records folded into overflow series\n", st.Metrics, st.Series, st.Overflowed)

	// The same instrumentation on the Prometheus backend: what /metrics serves.
	d := prometheusmetrics.New()
	pm := metrics.New(d, metrics.WithNamespace("demo"))
	defer pm.Close()
	if err := serveSome(ctx, pm); err != nil {
		return err
	}
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	fmt.Fprintln(w, "prometheus backend, /metrics (request counters):")
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "demo_http_server_requests_total{") {
			fmt.Fprintln(w, " ", line)
		}
	}
	return sc.Err()
}

// serveSome sends six requests from an instrumented client to an
// instrumented server, in process.
func serveSome(ctx context.Context, m *metrics.Metrics) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, "user %s", r.PathValue("id"))
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "payment service down", http.StatusServiceUnavailable)
	})
	server := metrics.Middleware(m)(mux)
	client := &http.Client{Transport: metrics.Transport(metricsLoopback{server}, m)} // route: the host called

	for _, req := range []struct{ method, path string }{
		{"GET", "/users/1"}, {"GET", "/users/2"}, {"GET", "/users/3"},
		{"GET", "/users/0"}, {"POST", "/orders"}, {"GET", "/nowhere"},
	} {
		r, err := http.NewRequestWithContext(ctx, req.method, "http://users.internal"+req.path, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}

// metricsLoopback is a RoundTripper that serves requests with a handler, so the
// demo needs no listening socket.
type metricsLoopback struct{ h http.Handler }

func (t metricsLoopback) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
