package otlptrace_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/microos/go-os/internal/jaegerquery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/otlptrace"
	"github.com/microos/go-os/trace/tracetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// queryURL is the query API of the collector whose OTLP receiver
// testenv.OTLP names (the same Jaeger all-in-one as Zipkin's).
func queryURL(t *testing.T) string {
	_, q := testenv.Zipkin(t)
	return q
}

func TestConformance(t *testing.T) {
	tracetest.Run(t, func(t *testing.T) tracetest.Backend {
		u, err := url.Parse(testenv.OTLP(t))
		if err != nil {
			t.Fatal(err)
		}
		p := testenv.NewProxy(t, u.Host) // a path the suite can cut
		p.Start()
		u.Host = p.Addr()
		exp, err := otlptrace.New(u.String())
		if err != nil {
			t.Fatal(err)
		}
		return tracetest.Backend{Exporter: exp, Read: jaegerquery.Reader(queryURL(t)), Path: p}
	})
}

func TestOpen(t *testing.T) {
	base := testenv.OTLP(t)
	q := queryURL(t)
	tr, err := trace.Open(context.Background(), "otlp+"+base+"?service=otlp-opened&sampler=always")
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := tr.Exporter().(*otlptrace.Exporter)
	if !ok || exp.URL() != base+otlptrace.TracesPath {
		t.Fatalf("exporter %T %v", tr.Exporter(), tr.Exporter())
	}
	_, s := tr.Start(context.Background(), "opened-span")
	s.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, err := jaegerquery.Reader(q)(ctxT(t), s.SpanContext().TraceID, 1)
	if err != nil || len(spans) != 1 || spans[0].Service != "otlp-opened" {
		t.Fatalf("read back %+v, %v", spans, err)
	}
}

func TestOpenRefusesUnknownParameters(t *testing.T) {
	tr, err := trace.Open(context.Background(), "otlp+http://127.0.0.1:1?service=a&headers=x")
	if err == nil {
		tr.Shutdown(context.Background())
		t.Fatal("Open with an unknown parameter succeeded")
	}
	if !errors.Is(err, trace.ErrBadURL) {
		t.Fatal(err)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "grpc://x:4317", "http:///nohost", "::"} {
		if _, err := otlptrace.New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

// TestResourceAndAttributes: the resource carries service.name, version
// and instance (not each span); attributes the semantic conventions type as
// integers arrive as integers; the status, the remote parent flag and the
// tracestate arrive as set — read back from the real collector.
func TestResourceAndAttributes(t *testing.T) {
	exp, err := otlptrace.New(testenv.OTLP(t))
	if err != nil {
		t.Fatal(err)
	}
	service := "otlp-resource-" + time.Now().Format("150405.000")
	tr := trace.New(exp, trace.WithService(service, "1.4.2", "host-7"))
	defer tr.Shutdown(context.Background())
	parent, err := trace.ParseTraceparent("00-" + randomTraceID(t) + "-00f067aa0ba902b7-01")
	if err != nil {
		t.Fatal(err)
	}
	parent.TraceState = "ours=1,theirs=abc"
	parent.Remote = true
	_, s := tr.Start(context.Background(), "GET /orders/{id}", trace.Server, trace.WithParent(parent))
	s.SetTag("http.request.method", "GET")
	s.SetTag("http.response.status_code", "503")
	s.SetError(errors.New("HTTP 503 Service Unavailable"))
	s.End()
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	spans, err := jaegerquery.Reader(queryURL(t))(ctxT(t), parent.TraceID, 1)
	if err != nil || len(spans) != 1 {
		t.Fatalf("read back %+v, %v", spans, err)
	}
	d := spans[0]
	for k, want := range map[string]string{
		"service.version": "1.4.2", "service.instance.id": "host-7",
		"http.request.method": "GET", "http.response.status_code": "503", "otel.status_code": "ERROR",
	} {
		if v, ok := d.Tag(k); !ok || v != want {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, v, want, d.Tags)
		}
	}
	if d.Service != service || d.ParentID != parent.SpanID || d.Kind != trace.Server ||
		d.Error != "HTTP 503 Service Unavailable" || d.TraceState != "ours=1,theirs=abc" {
		t.Errorf("read back %+v", d)
	}
}

// randomTraceID is a fresh trace per run: the collector keeps old ones.
func randomTraceID(t *testing.T) string {
	return fmt.Sprintf("%016x%016x", rand.Uint64()|1, rand.Uint64())
}

// receiver is an OTLP/HTTP endpoint that decodes every request as the
// protocol's message (so a malformed body fails the test) and answers with
// answer.
func receiver(t *testing.T, answer func(w http.ResponseWriter, req *coltracepb.ExportTraceServiceRequest)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != otlptrace.TracesPath || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
			t.Errorf("bad request %s %s %q", r.URL.Path, r.Header.Get("Content-Type"), body)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		answer(w, &req)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The OTLP specification's retry rules: 429, 502, 503 and 504 are retried;
// every other error answer drops the batch.
func TestStatusCodes(t *testing.T) {
	for code, retried := range map[int]bool{429: true, 502: true, 503: true, 504: true, 400: false, 401: false, 404: false, 413: false, 500: false} {
		var calls atomic.Int32
		srv := receiver(t, func(w http.ResponseWriter, _ *coltracepb.ExportTraceServiceRequest) {
			calls.Add(1)
			http.Error(w, "no", code)
		})
		exp, _ := otlptrace.New(srv.URL)
		err := exp.Export(context.Background(), []*trace.SpanData{span()})
		var se *otlptrace.StatusError
		if !errors.As(err, &se) || se.Code != code {
			t.Errorf("%d: error %v, want a *StatusError", code, err)
		}
		if errors.Is(err, trace.ErrUnavailable) != retried || errors.Is(err, trace.ErrRejected) == retried {
			t.Errorf("%d: error %v, retried should be %v", code, err, retried)
		}
		exp.Close()
	}
}

func TestPartialSuccessIsAnError(t *testing.T) {
	srv := receiver(t, func(w http.ResponseWriter, _ *coltracepb.ExportTraceServiceRequest) {
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "span too old"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
	})
	exp, _ := otlptrace.New(srv.URL)
	defer exp.Close()
	err := exp.Export(context.Background(), []*trace.SpanData{span()})
	var pe *otlptrace.PartialError
	if !errors.Is(err, trace.ErrRejected) || !errors.As(err, &pe) || pe.Rejected != 1 || !strings.Contains(err.Error(), "span too old") {
		t.Fatalf("error %v, want a *PartialError", err)
	}
}

// A span started before 1970 (OTLP's times are unsigned) goes out with a
// zero start instead of a wrapped-around one, and the batch's good spans
// go with it: the receiver decodes every span.
func TestBadStartTime(t *testing.T) {
	var got atomic.Int32
	srv := receiver(t, func(w http.ResponseWriter, req *coltracepb.ExportTraceServiceRequest) {
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					if s.Name == "bad" && s.StartTimeUnixNano != 0 {
						t.Errorf("bad span start %d, want 0", s.StartTimeUnixNano)
					}
					got.Add(1)
				}
			}
		}
	})
	exp, _ := otlptrace.New(srv.URL)
	tr := trace.New(exp)
	for range 3 {
		_, s := tr.Start(context.Background(), "good")
		s.End()
	}
	_, bad := tr.Start(context.Background(), "bad", trace.WithStartTime(time.Unix(-5, 0)))
	bad.End()
	tr.Shutdown(ctxT(t))
	if st := tr.Stats(); st.Exported != 4 || got.Load() != 4 {
		t.Fatalf("stats %+v, receiver decoded %d spans: want 4", st, got.Load())
	}
}

func TestHeadersAndAs(t *testing.T) {
	var key atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key.Store(r.Header.Get("X-Api-Key"))
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	c := &http.Client{}
	exp, _ := otlptrace.New(srv.URL+"/otlp/v1/traces", otlptrace.WithHeaders(map[string]string{"x-api-key": "k1"}), otlptrace.WithHTTPClient(c))
	tr := trace.New(exp)
	defer tr.Shutdown(context.Background())
	var got *http.Client
	if !tr.As(&got) || got != c {
		t.Fatalf("As gave %p, want %p", got, c)
	}
	if exp.URL() != srv.URL+"/otlp/v1/traces" {
		t.Errorf("URL %s: a full traces path must be kept", exp.URL())
	}
	if err := exp.Export(context.Background(), []*trace.SpanData{span()}); err != nil || key.Load() != "k1" {
		t.Fatalf("export: %v, key %v", err, key.Load())
	}
	c.CloseIdleConnections()
}

func span() *trace.SpanData {
	d := &trace.SpanData{Name: "s", Service: "svc", Start: time.Now(), End: time.Now()}
	d.TraceID, _ = trace.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	d.SpanID, _ = trace.ParseSpanID("b7ad6b7169203331")
	return d
}

// TestHTTPSemanticConventions: a request through trace.Transport and
// trace.Middleware, both exporting over OTLP, reads back from the collector
// with OpenTelemetry's HTTP attribute names and types.
func TestHTTPSemanticConventions(t *testing.T) {
	exp, err := otlptrace.New(testenv.OTLP(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithService("otlp-http-"+time.Now().Format("150405.000"), "", ""))
	defer tr.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	srv := httptest.NewServer(trace.Middleware(tr)(mux))
	defer srv.Close()
	client := &http.Client{Transport: trace.Transport(srv.Client().Transport, tr)}
	ctx, root := tr.Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/orders/7", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	root.End()
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	spans, err := jaegerquery.Reader(queryURL(t))(ctxT(t), root.SpanContext().TraceID, 3)
	if err != nil || len(spans) != 3 {
		t.Fatalf("read back %+v, %v", spans, err)
	}
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	want := map[trace.Kind]map[string]string{
		trace.Server: {"http.request.method": "GET", "url.path": "/orders/7", "url.scheme": "http", "http.route": "GET /orders/{id}", "http.response.status_code": "201"},
		trace.Client: {"http.request.method": "GET", "url.full": srv.URL + "/orders/7", "server.address": "127.0.0.1", "server.port": port, "http.response.status_code": "201"},
	}
	for _, d := range spans {
		for k, v := range want[d.Kind] {
			if got, _ := d.Tag(k); got != v {
				t.Errorf("%v span: %s = %q, want %q", d.Kind, k, got, v)
			}
		}
	}
}
