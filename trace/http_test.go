package trace_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microos/go-os/trace"
)

func TestMiddlewareAndTransport(t *testing.T) {
	srvTr, srvRec := trace.NewMemory(trace.WithService("server", "", ""))
	cliTr, cliRec := trace.NewMemory(trace.WithService("client", "", ""), trace.WithPropagation(trace.B3Single))
	var inHandler trace.SpanContext
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		inHandler = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusTeapot)
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(trace.Middleware(srvTr)(mux))
	defer srv.Close()
	client := &http.Client{Transport: trace.Transport(srv.Client().Transport, cliTr)}

	ctx, root := cliTr.Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/items/7", nil)
	req.Header.Set("X-Mine", "kept")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if len(req.Header) != 1 {
		t.Errorf("Transport modified the caller's request headers: %v", req.Header)
	}
	root.End()

	cs, _ := cliRec.Find("GET")
	ss, _ := srvRec.Find("GET /items/{id}")
	if cs.Kind != trace.Client || cs.ParentID != root.SpanContext().SpanID {
		t.Errorf("client span %+v", cs)
	}
	if ss.Kind != trace.Server || ss.TraceID != cs.TraceID || ss.ParentID != cs.SpanID {
		t.Errorf("server span %+v is not the client span's child (%s)", ss, cs.SpanID)
	}
	if inHandler.SpanID != ss.SpanID {
		t.Error("the handler's context does not carry the server span")
	}
	for _, c := range []struct {
		d         trace.SpanData
		key, want string
	}{
		{ss, trace.TagHTTPStatus, "418"}, {ss, trace.TagHTTPRoute, "GET /items/{id}"}, {ss, trace.TagURLPath, "/items/7"},
		{ss, trace.TagHTTPMethod, "GET"}, {ss, trace.TagURLScheme, "http"},
		{cs, trace.TagHTTPStatus, "418"}, {cs, trace.TagHTTPMethod, "GET"}, {cs, trace.TagURLPath, "/items/7"},
		{cs, trace.TagURLFull, srv.URL + "/items/7"}, {cs, trace.TagServerAddress, "127.0.0.1"},
		{cs, trace.TagServerPort, srv.URL[strings.LastIndex(srv.URL, ":")+1:]},
	} {
		if got, _ := c.d.Tag(c.key); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.d.Name, c.key, got, c.want)
		}
	}
	if !ss.Remote.Addr.IsValid() || !cs.Remote.Addr.IsValid() {
		t.Errorf("remote endpoints: %+v %+v", ss.Remote, cs.Remote)
	}

	resp, err = client.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d, _ := srvRec.Find("GET /boom"); d.Error == "" {
		t.Error("a 503 did not mark the server span failed")
	}
}

func TestMiddlewareMalformedHeadersStartANewTrace(t *testing.T) {
	tr, rec := trace.NewMemory()
	h := trace.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("traceparent", "00-zzzz")
	req.Header.Set("b3", "not-a-b3")
	req.Header.Set("X-B3-TraceId", "123")
	h.ServeHTTP(httptest.NewRecorder(), req)
	spans := rec.Spans()
	if len(spans) != 1 || spans[0].ParentID.IsValid() || !spans[0].TraceID.IsValid() {
		t.Errorf("spans %+v, want one new root", spans)
	}
}

func TestMiddlewarePanic(t *testing.T) {
	tr, rec := trace.NewMemory()
	h := trace.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("oops") }))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	if d, ok := rec.Find("GET"); !ok || d.Error != "panic: oops" {
		t.Errorf("span %+v", d)
	}
}

func TestUnsampledDecisionReachesServer(t *testing.T) {
	srvTr, srvRec := trace.NewMemory() // ParentBased(Always)
	cliTr, _ := trace.NewMemory(trace.WithSampler(trace.Never()))
	var got trace.SpanContext
	srv := httptest.NewServer(trace.Middleware(srvTr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = trace.SpanContextFromContext(r.Context())
	})))
	defer srv.Close()
	client := &http.Client{Transport: trace.Transport(srv.Client().Transport, cliTr)}
	ctx, root := cliTr.Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	root.End()
	if len(srvRec.Spans()) != 0 || got.TraceID != root.SpanContext().TraceID || got.IsSampled() {
		t.Errorf("server recorded %d spans, context %+v: want the caller's unsampled trace", len(srvRec.Spans()), got)
	}
}

func TestNilTracerWrappers(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	if got := trace.Middleware(nil)(h); got == nil {
		t.Error("nil Middleware")
	}
	if trace.Transport(nil, nil) != http.DefaultTransport {
		t.Error("Transport(nil, nil) is not http.DefaultTransport")
	}
}

// A proxy that forwards its caller's headers and injects only B3 must not
// leave the caller's traceparent for the callee to join.
func TestTransportReplacesForwardedHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	tr, _ := trace.NewMemory(trace.WithSampler(trace.Always()), trace.WithPropagation(trace.B3Multi))
	defer tr.Close()
	client := &http.Client{Transport: trace.Transport(nil, tr)}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set(trace.HeaderTraceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set(trace.HeaderTracestate, "vendor=stale")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get(trace.HeaderTraceparent) != "" || got.Get(trace.HeaderTracestate) != "" || got.Get(trace.HeaderB3TraceID) == "" {
		t.Fatalf("headers reaching the callee: %v", got)
	}
}
