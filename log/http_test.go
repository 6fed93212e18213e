package log_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microos/go-os/log"
)

func TestMiddlewareAccessLog(t *testing.T) {
	l, m := newMemLogger(t, log.WithTraceIDs(fakeTraceIDs))
	mux := http.NewServeMux()
	var seenID string
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		seenID = log.RequestID(r.Context())
		l.InfoContext(r.Context(), "loading user")
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	// The tracing middleware (here a stand-in) runs first and puts the span in ctx.
	traced := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), traceKey{}, [2]string{"t9", "s9"})))
		})
	}
	srv := httptest.NewServer(traced(log.Middleware(l.Logger)(mux)))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/users/42", nil)
	req.Header.Set(log.RequestIDHeader, "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(log.RequestIDHeader) != "abc-123" || seenID != "abc-123" {
		t.Errorf("request id: header %q, handler saw %q", resp.Header.Get(log.RequestIDHeader), seenID)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/fail", nil)
	req.Header.Set(log.RequestIDHeader, "bad id with spaces")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get(log.RequestIDHeader); len(id) != 16 {
		t.Errorf("invalid incoming id not replaced: %q", id)
	}

	es := entries(t, m)
	if len(es) != 3 {
		t.Fatalf("want 3 lines, got %v", es)
	}
	if es[0]["msg"] != "loading user" || es[0]["request_id"] != "abc-123" || es[0]["trace_id"] != "t9" {
		t.Errorf("handler line: %v", es[0])
	}
	acc := es[1]
	want := map[string]any{"msg": "http request", "level": "INFO", "method": "GET", "route": "GET /users/{id}",
		"path": "/users/42", "status": float64(200), "bytes": float64(5), "request_id": "abc-123", "trace_id": "t9", "span_id": "s9"}
	for k, v := range want {
		if acc[k] != v {
			t.Errorf("access line %s = %v, want %v", k, acc[k], v)
		}
	}
	if d, _ := acc["duration"].(float64); d <= 0 {
		t.Errorf("duration %v", acc["duration"])
	}
	if es[2]["level"] != "ERROR" || es[2]["status"] != float64(500) {
		t.Errorf("5xx line: %v", es[2])
	}
}

func TestTransportPropagatesRequestID(t *testing.T) {
	l, m := newMemLogger(t)
	l.SetLevel(-4)
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get(log.RequestIDHeader)
	}))
	defer srv.Close()
	c := &http.Client{Transport: log.Transport(nil, l.Logger)}
	req, _ := http.NewRequestWithContext(log.WithRequestID(context.Background(), "r-7"), "GET", srv.URL+"/x", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got != "r-7" {
		t.Errorf("server saw request id %q", got)
	}
	if req.Header.Get(log.RequestIDHeader) != "" {
		t.Error("Transport modified the caller's request")
	}
	out := string(m.Bytes())
	if !strings.Contains(out, `"msg":"http client request"`) || !strings.Contains(out, `"request_id":"r-7"`) || !strings.Contains(out, `"status":200`) {
		t.Errorf("client line: %s", out)
	}
	// A failed request is a warning.
	req, _ = http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	if !strings.Contains(string(m.Bytes()), `"level":"WARN"`) {
		t.Errorf("no warning for the failed request: %s", m.Bytes())
	}
}

// A handler that panics still gets its access line, as the 500 net/http
// answers, and the panic goes on to the server.
func TestMiddlewareLogsPanics(t *testing.T) {
	l, m := newMemLogger(t)
	h := log.Middleware(l.Logger)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	}()
	es := entries(t, m)
	if len(es) != 1 || es[0]["status"] != float64(500) || es[0]["panic"] != "boom" || es[0]["level"] != "ERROR" {
		t.Fatalf("access line of a panicking handler: %v", es)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	l, err := log.New(log.WithOutput(log.WriterOutput(io.Discard)))
	if err != nil {
		b.Fatal(err)
	}
	h := log.Middleware(l.Logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	req := httptest.NewRequest("GET", "/x", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// A nil logger logs nothing but still hands out request ids.
func TestMiddlewareNilLogger(t *testing.T) {
	w := httptest.NewRecorder()
	log.Middleware(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusTeapot || w.Header().Get(log.RequestIDHeader) == "" {
		t.Fatalf("status %d, request id %q", w.Code, w.Header().Get(log.RequestIDHeader))
	}
}
