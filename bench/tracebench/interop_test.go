package tracebench

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracegrpc"
)

// The interop tests run one request through four hops, two of each SDK:
//
//	OpenTelemetry client → go-os server → go-os client → OpenTelemetry server
//
// over HTTP (otelhttp ↔ trace.Middleware/Transport) and gRPC (otelgrpc ↔
// tracegrpc), with W3C Trace Context and with B3 (OpenTelemetry's own B3
// propagator), and check that they make one trace: the same trace id at
// every hop, each span the child of the hop before, the caller's sampling
// decision honoured on both sides, and (W3C) the caller's tracestate
// arriving unaltered at the last hop.

const upstreamState = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

type propagationCase struct {
	name  string
	otel  propagation.TextMapPropagator
	goos  trace.Format
	state bool // the format carries tracestate
}

var propagationCases = []propagationCase{
	{"W3C", propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}), trace.W3C, true},
	{"B3-single", b3.New(b3.WithInjectEncoding(b3.B3SingleHeader)), trace.B3Single, false},
	{"B3-multi", b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader)), trace.B3Multi, false},
}

// hops is what one run recorded: OpenTelemetry's spans, go-os's, and the
// span context each server's handler saw.
type hops struct {
	otel          []sdktrace.ReadOnlySpan
	goos          []trace.SpanData
	goosServerSaw trace.SpanContext
	otelServerSaw oteltrace.SpanContext
	caller        oteltrace.SpanContext
}

// upstream is the context of a caller before the first hop: a remote span
// with a tracestate and the given decision, which the OpenTelemetry caller
// joins (ParentBased honours it).
func upstream(sampled bool) context.Context {
	tid, _ := oteltrace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	ts, _ := oteltrace.ParseTraceState(upstreamState)
	cfg := oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceState: ts, Remote: true}
	if sampled {
		cfg.TraceFlags = oteltrace.FlagsSampled
	}
	return oteltrace.ContextWithRemoteSpanContext(context.Background(), oteltrace.NewSpanContext(cfg))
}

func otelProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	tp, exp, _ := otelProviderEnded(t)
	return tp, exp
}

// otelProviderEnded also gives the kind of every span as it ends, so a test
// can wait for a span that ends after the response has left (otelgrpc's
// server span ends on the RPC's End event, which the client may see after
// its call has returned).
func otelProviderEnded(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter, <-chan oteltrace.SpanKind) {
	exp := tracetest.NewInMemoryExporter()
	ended := make(chan oteltrace.SpanKind, 16)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
		sdktrace.WithSyncer(exp), sdktrace.WithSpanProcessor(endedProcessor(ended)))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, exp, ended
}

type endedProcessor chan oteltrace.SpanKind

func (p endedProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (p endedProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	select {
	case p <- s.SpanKind():
	default:
	}
}
func (p endedProcessor) Shutdown(context.Context) error   { return nil }
func (p endedProcessor) ForceFlush(context.Context) error { return nil }

// awaitEnded waits until a span of kind has ended, or fails the test.
func awaitEnded(t *testing.T, ended <-chan oteltrace.SpanKind, kind oteltrace.SpanKind) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case k := <-ended:
			if k == kind {
				return
			}
		case <-timeout:
			t.Fatalf("no OpenTelemetry %v span ended within 30s", kind)
		}
	}
}

func runHTTP(t *testing.T, pc propagationCase, sampled bool) hops { return runHTTPWith(t, pc, sampled) }

func runHTTPWith(t *testing.T, pc propagationCase, sampled bool, opts ...trace.Option) hops {
	tp, otelExp := otelProvider(t)
	tr, rec := trace.NewMemory(append([]trace.Option{trace.WithService("goos-hop", "", ""), trace.WithPropagation(pc.goos)}, opts...)...)
	var h hops

	last := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.otelServerSaw = oteltrace.SpanContextFromContext(r.Context())
	}), "last", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(pc.otel)))
	defer last.Close()
	goosClient := &http.Client{Transport: trace.Transport(last.Client().Transport, tr)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /middle", func(w http.ResponseWriter, r *http.Request) {
		h.goosServerSaw = trace.SpanContextFromContext(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, last.URL+"/last", nil)
		resp, err := goosClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	})
	middle := httptest.NewServer(trace.Middleware(tr)(mux))
	defer middle.Close()

	otelClient := &http.Client{Transport: otelhttp.NewTransport(middle.Client().Transport,
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(pc.otel))}
	ctx, caller := tp.Tracer("interop").Start(upstream(sampled), "caller")
	h.caller = caller.SpanContext()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, middle.URL+"/middle", nil)
	resp, err := otelClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	caller.End()
	tr.Shutdown(context.Background())
	h.goos = rec.Spans()
	h.otel = append(h.otel, otelExp.GetSpans().Snapshots()...)
	return h
}

// healthChecker is a go-os gRPC server hop: its Check calls the next hop's.
type healthChecker struct {
	healthpb.UnimplementedHealthServer
	next healthpb.HealthClient
	saw  *trace.SpanContext
}

func (c healthChecker) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	*c.saw = trace.SpanContextFromContext(ctx)
	return c.next.Check(ctx, in)
}

func serve(t *testing.T, srv *grpc.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) healthpb.HealthClient {
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

type otelHealth struct {
	*health.Server
	saw *oteltrace.SpanContext
}

func (s otelHealth) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	*s.saw = oteltrace.SpanContextFromContext(ctx)
	return s.Server.Check(ctx, in)
}

func runGRPC(t *testing.T, pc propagationCase, sampled bool) hops {
	tp, otelExp, ended := otelProviderEnded(t)
	tr, rec := trace.NewMemory(trace.WithService("goos-hop", "", ""), trace.WithPropagation(pc.goos))
	var h hops

	lastSrv := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(pc.otel))))
	healthpb.RegisterHealthServer(lastSrv, otelHealth{Server: health.NewServer(), saw: &h.otelServerSaw})
	last := dial(t, serve(t, lastSrv), grpc.WithChainUnaryInterceptor(tracegrpc.UnaryClientInterceptor(tr)))

	middleSrv := grpc.NewServer(grpc.ChainUnaryInterceptor(tracegrpc.UnaryServerInterceptor(tr)))
	healthpb.RegisterHealthServer(middleSrv, healthChecker{next: last, saw: &h.goosServerSaw})
	middle := dial(t, serve(t, middleSrv), grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(pc.otel))))

	ctx, caller := tp.Tracer("interop").Start(upstream(sampled), "caller")
	h.caller = caller.SpanContext()
	if _, err := middle.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if sampled {
		awaitEnded(t, ended, oteltrace.SpanKindServer)
	}
	caller.End()
	tr.Shutdown(context.Background())
	h.goos = rec.Spans()
	h.otel = append(h.otel, otelExp.GetSpans().Snapshots()...)
	return h
}

func TestInteropHTTP(t *testing.T) { testInterop(t, runHTTP) }
func TestInteropGRPC(t *testing.T) { testInterop(t, runGRPC) }

func testInterop(t *testing.T, run func(*testing.T, propagationCase, bool) hops) {
	for _, pc := range propagationCases {
		t.Run(pc.name+"/sampled", func(t *testing.T) {
			h := run(t, pc, true)
			checkSampled(t, pc, h)
		})
		t.Run(pc.name+"/not-sampled", func(t *testing.T) {
			h := run(t, pc, false)
			checkNotSampled(t, h)
		})
	}
}

func otelSpan(t *testing.T, spans []sdktrace.ReadOnlySpan, kind oteltrace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.SpanKind() == kind {
			return s
		}
	}
	t.Fatalf("no OpenTelemetry %v span among %d", kind, len(spans))
	return nil
}

func goosSpan(t *testing.T, spans []trace.SpanData, kind trace.Kind) trace.SpanData {
	t.Helper()
	for _, s := range spans {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("no go-os %v span among %d", kind, len(spans))
	return trace.SpanData{}
}

func checkSampled(t *testing.T, pc propagationCase, h hops) {
	if len(h.otel) != 3 || len(h.goos) != 2 {
		t.Fatalf("%d OpenTelemetry spans (want caller, client, server) and %d go-os spans (want server, client)", len(h.otel), len(h.goos))
	}
	oc := otelSpan(t, h.otel, oteltrace.SpanKindClient)
	os := otelSpan(t, h.otel, oteltrace.SpanKindServer)
	gs := goosSpan(t, h.goos, trace.Server)
	gc := goosSpan(t, h.goos, trace.Client)
	tid := h.caller.TraceID()
	for _, c := range []struct {
		what string
		ok   bool
		got  any
	}{
		{"OpenTelemetry client in the caller's trace", oc.SpanContext().TraceID() == tid && oc.Parent().SpanID() == h.caller.SpanID(), oc.Parent()},
		{"go-os server joins the trace", gs.TraceID == trace.TraceID(tid), gs.TraceID},
		{"go-os server's parent is the OpenTelemetry client", gs.ParentID == trace.SpanID(oc.SpanContext().SpanID()) && gs.ParentRemote, gs.ParentID},
		{"go-os handler sees its server span, sampled", h.goosServerSaw.SpanID == gs.SpanID && h.goosServerSaw.IsSampled(), h.goosServerSaw},
		{"go-os client's parent is the go-os server", gc.TraceID == gs.TraceID && gc.ParentID == gs.SpanID, gc.ParentID},
		{"OpenTelemetry server joins the trace", os.SpanContext().TraceID() == tid, os.SpanContext().TraceID()},
		{"OpenTelemetry server's parent is the go-os client", os.Parent().SpanID() == oteltrace.SpanID(gc.SpanID) && os.Parent().IsRemote(), os.Parent()},
		{"OpenTelemetry server sampled", os.SpanContext().IsSampled() && h.otelServerSaw.IsSampled(), os.SpanContext()},
	} {
		if !c.ok {
			t.Errorf("%s: got %v", c.what, c.got)
		}
	}
	if pc.state {
		if gs.TraceState != upstreamState || h.goosServerSaw.TraceState != upstreamState {
			t.Errorf("go-os server tracestate %q, want the caller's %q", gs.TraceState, upstreamState)
		}
		if got := os.SpanContext().TraceState().String(); got != upstreamState {
			t.Errorf("OpenTelemetry server tracestate %q, want the caller's %q unaltered through go-os", got, upstreamState)
		}
	}
}

// An unsampled caller: nobody records, and the decision and the trace id
// still reach the last hop.
func checkNotSampled(t *testing.T, h hops) {
	if len(h.otel) != 0 || len(h.goos) != 0 {
		t.Errorf("recorded %d OpenTelemetry and %d go-os spans of an unsampled trace", len(h.otel), len(h.goos))
	}
	tid := h.caller.TraceID()
	if h.goosServerSaw.TraceID != trace.TraceID(tid) || h.goosServerSaw.IsSampled() || h.goosServerSaw.Sampling != trace.Deny {
		t.Errorf("go-os server saw %+v, want trace %s not sampled", h.goosServerSaw, tid)
	}
	if h.otelServerSaw.TraceID() != tid || h.otelServerSaw.IsSampled() {
		t.Errorf("OpenTelemetry server saw %v, want trace %s not sampled", h.otelServerSaw, tid)
	}
}

// TestInteropTracestateMutation: a go-os hop that writes a tracestate
// entry of its own (W3C §3.5) puts it at the front, and OpenTelemetry's
// server receives every upstream entry after it, unaltered.
func TestInteropTracestateMutation(t *testing.T) {
	h := runHTTPWith(t, propagationCases[0], true, trace.WithTracestate("gos", func(trace.SpanContext) string { return "on" }))
	os := otelSpan(t, h.otel, oteltrace.SpanKindServer)
	if got, want := os.SpanContext().TraceState().String(), "gos=on,"+upstreamState; got != want {
		t.Errorf("OpenTelemetry server tracestate %q, want %q", got, want)
	}
}
