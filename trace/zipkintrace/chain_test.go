package zipkintrace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/microos/go-os/internal/jaegerquery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/internal/echogrpc"
	"github.com/microos/go-os/trace/tracegrpc"
	"github.com/microos/go-os/trace/zipkintrace"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTracer returns a tracer for service that exports to the real collector.
func newTracer(t *testing.T, spansURL, service string, opts ...trace.Option) *trace.Tracer {
	t.Helper()
	exp, err := zipkintrace.New(spansURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, append([]trace.Option{trace.WithService(service, "", ""), trace.WithFlushInterval(20 * time.Millisecond)}, opts...)...)
	t.Cleanup(func() { tr.Shutdown(context.Background()) })
	return tr
}

// TestChain sends one request through an HTTP client, an HTTP server and
// the gRPC server it calls, each service with its own tracer exporting to
// the real collector, and reads the trace back from the collector's query
// API: one trace, each span the child of the one before, with the kinds,
// services, tags and timestamps each hop recorded.
func TestChain(t *testing.T) {
	spansURL, queryURL := testenv.Zipkin(t)
	suffix := time.Now().Format("150405.000")
	frontend := newTracer(t, spansURL, "chain-frontend-"+suffix)
	api := newTracer(t, spansURL, "chain-api-"+suffix, trace.WithPropagation(trace.B3Single))
	backend := newTracer(t, spansURL, "chain-backend-"+suffix)

	grpcAddr := echogrpc.Start(t, func(ctx context.Context, in string) error {
		_, s := backend.Start(ctx, "lookup")
		s.SetTag("item", in)
		s.End()
		return nil
	}, grpc.ChainUnaryInterceptor(tracegrpc.UnaryServerInterceptor(backend)))
	conn := echogrpc.Dial(t, grpcAddr, grpc.WithChainUnaryInterceptor(tracegrpc.UnaryClientInterceptor(api)))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /checkout/{item}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := echogrpc.Call(r.Context(), conn, r.PathValue("item")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	})
	srv := httptest.NewServer(trace.Middleware(api)(mux))
	defer srv.Close()
	client := &http.Client{Transport: trace.Transport(srv.Client().Transport, frontend)}

	ctx, root := frontend.Start(context.Background(), "checkout")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/checkout/book", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	root.End()
	for _, tr := range []*trace.Tracer{frontend, api, backend} {
		if err := tr.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}

	type hop struct {
		service string
		kind    trace.Kind
		name    string
		tags    map[string]string
	}
	want := []hop{
		{frontend.Service(), trace.Internal, "checkout", nil},
		{frontend.Service(), trace.Client, "GET", map[string]string{"http.method": "GET", "http.path": "/checkout/book", "http.status_code": "200"}},
		{api.Service(), trace.Server, "GET /checkout/{item}", map[string]string{"http.route": "GET /checkout/{item}", "http.status_code": "200"}},
		{api.Service(), trace.Client, echogrpc.Echo, map[string]string{"grpc.status_code": "OK"}},
		{backend.Service(), trace.Server, echogrpc.Echo, map[string]string{"grpc.status_code": "OK", "rpc.method": "Echo", "rpc.service": "echogrpc.Echo", "rpc.system": "grpc"}},
		{backend.Service(), trace.Internal, "lookup", map[string]string{"item": "book"}},
	}
	spans, err := jaegerquery.Reader(queryURL)(ctxT(t), root.SpanContext().TraceID, len(want))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != len(want) {
		t.Fatalf("%d spans in the trace, want %d: %+v", len(spans), len(want), spans)
	}
	byParent := map[trace.SpanID]trace.SpanData{}
	for _, d := range spans {
		byParent[d.ParentID] = d
	}
	parent := trace.SpanData{}
	for i, w := range want {
		d, ok := byParent[parent.SpanID]
		if !ok {
			t.Fatalf("hop %d (%s): no span whose parent is %s", i, w.name, parent.SpanID)
		}
		// Zipkin collectors lower-case span and service names.
		if !strings.EqualFold(d.Service, w.service) || d.Kind != w.kind || !strings.EqualFold(d.Name, w.name) {
			t.Errorf("hop %d: %s %v %q, want %s %v %q", i, d.Service, d.Kind, d.Name, w.service, w.kind, w.name)
		}
		for k, v := range w.tags {
			if got, _ := d.Tag(k); got != v {
				t.Errorf("hop %d (%s): tag %s = %q, want %q", i, w.name, k, got, v)
			}
		}
		if d.Error != "" {
			t.Errorf("hop %d (%s): error %q", i, w.name, d.Error)
		}
		if i > 0 { // within its parent, allowing the collector's µs rounding
			if d.Start.Before(parent.Start.Add(-time.Microsecond)) || d.End.After(parent.End.Add(time.Microsecond)) {
				t.Errorf("hop %d (%s): [%v, %v] not within its parent [%v, %v]", i, w.name, d.Start, d.End, parent.Start, parent.End)
			}
		}
		if d.Duration() <= 0 || time.Since(d.Start) > time.Minute {
			t.Errorf("hop %d (%s): start %v duration %v", i, w.name, d.Start, d.Duration())
		}
		parent = d
	}
}
