package httpwrap_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microos/go-os/log"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/trace"
)

type copyKey struct{}

// The go-os middlewares stacked with a copying middleware between them
// (each but the innermost holds an earlier copy of the request than the
// one the mux saw) all see the pattern that served the request, as long
// as one of them sits next to the mux.
func TestStackedMiddlewaresSeeTheRoute(t *testing.T) {
	m := metrics.NewMemory()
	defer m.Close()
	tr, rec := trace.NewMemory(trace.WithSampler(trace.Always()))
	defer tr.Close()
	var lines strings.Builder
	logger, err := log.New(log.WithOutput(log.WriterOutput(&lines)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	// A third-party middleware that copies the request, as most do.
	copying := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), copyKey{}, 1)))
		})
	}
	h := metrics.Middleware(m)(copying(trace.Middleware(tr)(copying(log.Middleware(logger.Logger)(mux)))))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/42", nil))
	logger.Close()

	snap, _ := m.Snapshot()
	if snap.Value("http.server.requests_total", "class", "2xx", "method", "GET", "route", "GET /users/{id}") != 1 {
		t.Errorf("metrics did not record the route: %v", snap)
	}
	spans := rec.Spans()
	if len(spans) != 1 || spans[0].Name != "GET /users/{id}" {
		t.Errorf("span names: %v, want the route", spans)
	}
	if !strings.Contains(lines.String(), `"route":"GET /users/{id}"`) {
		t.Errorf("access line lacks the route: %s", lines.String())
	}
}
