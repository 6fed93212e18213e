package monitor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/microos/go-os/metrics"
)

// Request stats come from the metrics package's own series: the same
// numbers its snapshot holds, no counter of the monitor's.
func TestStatsFromMetricsSnapshot(t *testing.T) {
	met := metrics.NewMemory()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "bad" {
			w.WriteHeader(500)
		}
	})
	h := metrics.Middleware(met)(mux)
	for _, id := range []string{"1", "2", "bad"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/"+id, nil))
	}
	m := New(WithMetrics(met), manual())
	defer m.Close()
	st := m.Stats()
	var e *EndpointStats
	for i := range st.Requests {
		if st.Requests[i].Route == "GET /orders/{id}" {
			e = &st.Requests[i]
		}
	}
	if e == nil {
		t.Fatalf("no endpoint stats: %+v", st.Requests)
	}
	snap, _ := met.Snapshot()
	if float64(e.Count) != snap.Value("http.server.requests_total", "route", "GET /orders/{id}", "class", "2xx")+snap.Value("http.server.requests_total", "route", "GET /orders/{id}", "class", "5xx") || e.Count != 3 || e.Errors != 1 {
		t.Fatalf("endpoint %+v", *e)
	}
	if e.Max < e.Min || e.Mean <= 0 {
		t.Fatalf("latency %+v", *e)
	}
	if !e.HasPercentiles || e.P50 < e.Min || e.P50 > e.P90 || e.P90 > e.P99 || e.P99 > e.Max {
		t.Fatalf("percentiles %+v: want min ≤ p50 ≤ p90 ≤ p99 ≤ max", *e)
	}
	if st.Runtime.Goroutines == 0 || st.Runtime.HeapBytes == 0 {
		t.Fatalf("runtime %+v", st.Runtime)
	}
	if goruntime.GOOS == "linux" && (!st.Process.Available || st.Process.RSSBytes == 0 || st.Process.OpenFDs == 0) {
		t.Fatalf("process %+v", st.Process)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	var rep Report
	body := rec.Body.String()
	if err := json.Unmarshal([]byte(body), &rep); err != nil || rep.Stats == nil || len(rep.Stats.Requests) == 0 {
		t.Fatalf("/status: %v %+v", err, rep.Stats)
	}
	for _, key := range []string{`"has_percentiles":true`, `"latency_p50_ns":`, `"latency_p90_ns":`, `"latency_p99_ns":`} {
		if !strings.Contains(body, key) {
			t.Fatalf("/status has no %s: %s", key, body)
		}
	}
}
