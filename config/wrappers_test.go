package config_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/trace"
)

// Every order of the go-os server wrappers, config's snapshot included,
// gives the same route to metrics, the span and the access log: each
// wrapper copies the request, and each joins the route slot.
func TestEveryWrapperOrderSeesTheRoute(t *testing.T) {
	c := newConfig(t, []config.Source{config.NewMemory(map[string]any{"greeting": "hi"})})
	for _, order := range permutations([]string{"trace", "metrics", "log", "config"}) {
		t.Run(strings.Join(order, "→"), func(t *testing.T) {
			m := metrics.NewMemory()
			defer m.Close()
			tr, rec := trace.NewMemory(trace.WithSampler(trace.Always()))
			defer tr.Close()
			var lines strings.Builder
			logger, err := log.New(log.WithOutput(log.WriterOutput(&lines)))
			if err != nil {
				t.Fatal(err)
			}
			wrappers := map[string]func(http.Handler) http.Handler{
				"trace":   trace.Middleware(tr),
				"metrics": metrics.Middleware(m),
				"log":     log.Middleware(logger.Logger),
				"config":  config.Middleware(c),
			}
			var sawSnapshot bool
			mux := http.NewServeMux()
			mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				sawSnapshot = config.FromContext(r.Context()) != nil
			})
			var h http.Handler = mux
			for i := len(order) - 1; i >= 0; i-- {
				h = wrappers[order[i]](h)
			}
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/42", nil))
			logger.Close()

			const route = "GET /orders/{id}"
			if !sawSnapshot {
				t.Error("the handler got no config snapshot")
			}
			snap, _ := m.Snapshot()
			if snap.Value("http.server.requests_total", "class", "2xx", "method", "GET", "route", route) != 1 {
				t.Errorf("metrics did not record the route: %v", snap)
			}
			if spans := rec.Spans(); len(spans) != 1 || spans[0].Name != route {
				t.Errorf("spans %v, want one named %q", spans, route)
			}
			if !strings.Contains(lines.String(), `"route":"`+route+`"`) {
				t.Errorf("access line lacks the route: %s", lines.String())
			}
		})
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{append([]string(nil), s...)}
	}
	var out [][]string
	for i := range s {
		rest := append(append([]string(nil), s[:i]...), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}
