package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/microos/go-os/metrics"
)

// Wrappers given no backend pass requests through instead of panicking,
// as trace's do with a nil Tracer.
func TestNilWrappersPassThrough(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"metrics.Middleware(nil)": metrics.Middleware(nil),
	} {
		w := httptest.NewRecorder()
		mw(ok).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusTeapot {
			t.Errorf("%s: status %d", name, w.Code)
		}
	}
	if metrics.Transport(http.DefaultTransport, nil) != http.DefaultTransport {
		t.Error("metrics.Transport(base, nil) is not base")
	}
}
