package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/microos/go-os/metrics"
)

func TestMiddleware(t *testing.T) {
	m := metrics.NewMemory()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := metrics.Middleware(m)(mux)

	serve := func(method, path string) (code int, panicked bool) {
		defer func() { panicked = recover() != nil }()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, false
	}
	serve("GET", "/users/1")
	serve("GET", "/users/2")
	serve("POST", "/fail")
	serve("GET", "/nope")
	if _, panicked := serve("GET", "/panic"); !panicked {
		t.Error("the handler's panic did not go on")
	}

	snap, _ := m.Snapshot()
	for _, c := range []struct {
		name string
		kv   []string
		want float64
	}{
		{"http.server.requests_total", []string{"route", "GET /users/{id}", "method", "GET", "class", "2xx"}, 2},
		{"http.server.requests_total", []string{"route", "POST /fail", "class", "5xx"}, 1},
		{"http.server.errors_total", []string{"route", "POST /fail", "class", "5xx"}, 1},
		{"http.server.requests_total", []string{"route", "unmatched", "class", "4xx"}, 1},
		{"http.server.errors_total", []string{"route", "GET /panic", "class", "5xx"}, 1},
		{"http.server.request_duration_seconds", []string{"route", "GET /users/{id}", "method", "GET"}, 2},
	} {
		if got := snap.Value(c.name, c.kv...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.kv, got, c.want)
		}
	}
	if _, ok := snap.Find("http.server.errors_total", "class", "2xx"); ok {
		t.Error("a 2xx was counted as an error")
	}
}

func TestMiddlewareKeepsFlusher(t *testing.T) {
	m := metrics.NewMemory()
	h := metrics.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the middleware: %v", err)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	m := metrics.NewMemory()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: metrics.Transport(tr, m, metrics.WithRoute(func(r *http.Request) string { return r.URL.Path }))}
	for _, p := range []string{"/a", "/a", "/missing"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, err := client.Get("http://127.0.0.1:1/down"); err == nil {
		t.Fatal("GET on a closed port succeeded")
	}
	snap, _ := m.Snapshot()
	for _, c := range []struct {
		kv   []string
		want float64
	}{
		{[]string{"route", "/a", "class", "2xx"}, 2},
		{[]string{"route", "/missing", "class", "4xx"}, 1},
		{[]string{"route", "/down", "class", "error"}, 1},
	} {
		if got := snap.Value("http.client.requests_total", c.kv...); got != c.want {
			t.Errorf("http.client.requests_total%v = %v, want %v", c.kv, got, c.want)
		}
	}
	if got := snap.Value("http.client.errors_total", "class", "error"); got != 1 {
		t.Errorf("transport errors = %v, want 1", got)
	}
}
