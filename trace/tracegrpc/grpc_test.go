package tracegrpc_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/internal/echogrpc"
	"github.com/microos/go-os/trace/tracegrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup serves the echo service traced by server and dials it traced by client.
func setup(t *testing.T, server, client *trace.Tracer, h echogrpc.Handler) *grpc.ClientConn {
	addr := echogrpc.Start(t, h,
		grpc.ChainUnaryInterceptor(tracegrpc.UnaryServerInterceptor(server)),
		grpc.ChainStreamInterceptor(tracegrpc.StreamServerInterceptor(server)))
	return echogrpc.Dial(t, addr,
		grpc.WithChainUnaryInterceptor(tracegrpc.UnaryClientInterceptor(client)),
		grpc.WithChainStreamInterceptor(tracegrpc.StreamClientInterceptor(client)))
}

func TestUnaryJoinsTrace(t *testing.T) {
	srvTr, srvRec := trace.NewMemory(trace.WithService("server", "", ""))
	cliTr, cliRec := trace.NewMemory(trace.WithService("client", "", ""))
	var handlerSpan trace.SpanContext
	conn := setup(t, srvTr, cliTr, func(ctx context.Context, in string) error {
		handlerSpan = trace.SpanContextFromContext(ctx)
		return nil
	})
	ctx, root := cliTr.Start(context.Background(), "caller")
	if out, err := echogrpc.Call(ctx, conn, "hi"); err != nil || out != "hi" {
		t.Fatalf("Echo: %q, %v", out, err)
	}
	root.End()

	cs, ok := cliRec.Find(echogrpc.Echo)
	if !ok {
		t.Fatalf("no client span; recorded %+v", cliRec.Spans())
	}
	ss, ok := srvRec.Find(echogrpc.Echo)
	if !ok {
		t.Fatalf("no server span")
	}
	if cs.Kind != trace.Client || ss.Kind != trace.Server {
		t.Errorf("kinds %v, %v", cs.Kind, ss.Kind)
	}
	if cs.ParentID != root.SpanContext().SpanID {
		t.Errorf("client span's parent %s, want the caller %s", cs.ParentID, root.SpanContext().SpanID)
	}
	if ss.TraceID != cs.TraceID || ss.ParentID != cs.SpanID {
		t.Errorf("server span %s/%s parent %s, want child of client %s/%s", ss.TraceID, ss.SpanID, ss.ParentID, cs.TraceID, cs.SpanID)
	}
	if handlerSpan.SpanID != ss.SpanID {
		t.Errorf("the handler's ctx carries %s, want the server span %s", handlerSpan.SpanID, ss.SpanID)
	}
	if host, _ := cs.Tag(trace.TagServerAddress); host != "127.0.0.1" {
		t.Errorf("client span server.address %q", host)
	}
	if port, _ := cs.Tag(trace.TagServerPort); port == "" || port == "0" {
		t.Errorf("client span server.port %q", port)
	}
	for _, d := range []trace.SpanData{ss, cs} {
		for k, want := range map[string]string{tracegrpc.TagCode: "0", tracegrpc.TagSystem: "grpc",
			tracegrpc.TagService: "echogrpc.Echo", tracegrpc.TagMethod: "Echo"} {
			if v, _ := d.Tag(k); v != want {
				t.Errorf("%v span: tag %s = %q, want %q", d.Kind, k, v, want)
			}
		}
	}
	if !ss.Remote.Addr.IsValid() || !cs.Remote.Addr.IsValid() {
		t.Errorf("remote endpoints missing: server %+v client %+v", ss.Remote, cs.Remote)
	}
}

func TestUnaryErrorMarksSpans(t *testing.T) {
	srvTr, srvRec := trace.NewMemory()
	cliTr, cliRec := trace.NewMemory()
	conn := setup(t, srvTr, cliTr, nil)
	_, err := echogrpc.Call(context.Background(), conn, "fail")
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Echo(fail): %v", err)
	}
	for name, rec := range map[string]*trace.Recorder{"client": cliRec, "server": srvRec} {
		d, ok := rec.Find(echogrpc.Echo)
		if !ok {
			t.Fatalf("%s: no span", name)
		}
		if d.Error == "" {
			t.Errorf("%s span not marked failed", name)
		}
		if v, _ := d.Tag(tracegrpc.TagCode); v != "5" { // NotFound
			t.Errorf("%s status tag %q", name, v)
		}
	}
}

func TestStream(t *testing.T) {
	srvTr, srvRec := trace.NewMemory()
	cliTr, cliRec := trace.NewMemory()
	conn := setup(t, srvTr, cliTr, nil)
	got, err := echogrpc.Stream(context.Background(), conn, "x")
	if err != nil || len(got) != 3 {
		t.Fatalf("Repeat: %v, %v", got, err)
	}
	cs, ok1 := cliRec.Find(echogrpc.Repeat)
	ss, ok2 := srvRec.Find(echogrpc.Repeat)
	if !ok1 || !ok2 {
		t.Fatalf("spans: client %v server %v", ok1, ok2)
	}
	if ss.ParentID != cs.SpanID || ss.TraceID != cs.TraceID {
		t.Errorf("server stream span is not the client's child")
	}
	if cs.Error != "" || ss.Error != "" {
		t.Errorf("errors: %q %q", cs.Error, ss.Error)
	}
}

func TestUnsampledDecisionTravels(t *testing.T) {
	srvTr, srvRec := trace.NewMemory() // ParentBased(Always): follows the caller
	cliTr, cliRec := trace.NewMemory(trace.WithSampler(trace.Never()))
	conn := setup(t, srvTr, cliTr, nil)
	ctx, root := cliTr.Start(context.Background(), "caller")
	if _, err := echogrpc.Call(ctx, conn, "hi"); err != nil {
		t.Fatal(err)
	}
	root.End()
	if n := len(cliRec.Spans()) + len(srvRec.Spans()); n != 0 {
		t.Errorf("%d spans recorded in an unsampled trace", n)
	}
}

func TestNilTracer(t *testing.T) {
	conn := setup(t, nil, nil, nil)
	if _, err := echogrpc.Call(context.Background(), conn, "hi"); err != nil {
		t.Fatal(err)
	}
}

func TestCarrier(t *testing.T) {
	md := metadata.MD{}
	sc := trace.SpanContext{Sampling: trace.Accept}
	sc.TraceID, _ = trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	sc.SpanID, _ = trace.ParseSpanID("00f067aa0ba902b7")
	trace.Inject(sc, tracegrpc.Carrier(md), trace.W3C, trace.B3Multi)
	if got := md.Get("traceparent"); len(got) != 1 || got[0] != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("traceparent %v", got)
	}
	back, ok := trace.Extract(tracegrpc.Carrier(md))
	if !ok || back.TraceID != sc.TraceID || back.SpanID != sc.SpanID || !back.IsSampled() {
		t.Errorf("round trip %+v", back)
	}
}

func TestCarrierCombinesTracestate(t *testing.T) {
	md := metadata.MD{}
	md.Append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	md.Append("tracestate", "congo=1")
	md.Append("tracestate", "rojo=2")
	sc, ok := trace.Extract(tracegrpc.Carrier(md))
	if !ok || sc.TraceState != "congo=1,rojo=2" {
		t.Fatalf("%v %q", ok, sc.TraceState)
	}
	md.Append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-01")
	if _, ok := trace.Extract(tracegrpc.Carrier(md)); ok {
		t.Fatal("two different traceparent values were joined")
	}
}
