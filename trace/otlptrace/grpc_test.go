package otlptrace_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/internal/jaegerquery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/otlptrace"
	"github.com/microos/go-os/trace/tracetest"
)

func TestGRPCConformance(t *testing.T) {
	tracetest.Run(t, func(t *testing.T) tracetest.Backend {
		p := testenv.NewProxy(t, testenv.OTLPGRPC(t)) // a path the suite can cut
		p.Start()
		exp, err := otlptrace.NewGRPC(p.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		return tracetest.Backend{Exporter: exp, Read: jaegerquery.Reader(queryURL(t)), Path: p}
	})
}

func TestGRPCOpen(t *testing.T) {
	addr := testenv.OTLPGRPC(t)
	tr, err := trace.Open(context.Background(), "otlp+grpc://"+addr+"?service=otlp-grpc-opened")
	if err != nil {
		t.Fatal(err)
	}
	var conn *grpc.ClientConn
	if !tr.As(&conn) || conn == nil {
		t.Fatal("As did not reach the gRPC connection")
	}
	_, s := tr.Start(context.Background(), "opened-span")
	s.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, err := jaegerquery.Reader(queryURL(t))(ctxT(t), s.SpanContext().TraceID, 1)
	if err != nil || len(spans) != 1 || spans[0].Service != "otlp-grpc-opened" {
		t.Fatalf("read back %+v, %v", spans, err)
	}
	if _, err := trace.Open(context.Background(), "otlp+grpc://"+addr+"/v1/traces"); !errors.Is(err, trace.ErrBadURL) {
		t.Errorf("a path on an otlp+grpc URL: %v, want ErrBadURL", err)
	}
}

// receiverGRPC answers every Export with answer.
type receiverGRPC struct {
	coltracepb.UnimplementedTraceServiceServer
	answer func(*coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error)
}

func (r receiverGRPC) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	return r.answer(req)
}

func startReceiverGRPC(t *testing.T, answer func(*coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, receiverGRPC{answer: answer})
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return ln.Addr().String()
}

// The OTLP specification's retry rules for gRPC codes, and partial success.
func TestGRPCStatusCodes(t *testing.T) {
	for code, retried := range map[codes.Code]bool{codes.Unavailable: true, codes.ResourceExhausted: true, codes.Aborted: true,
		codes.DeadlineExceeded: true, codes.InvalidArgument: false, codes.Unauthenticated: false, codes.PermissionDenied: false, codes.Unimplemented: false} {
		addr := startReceiverGRPC(t, func(*coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
			return nil, status.Error(code, "no")
		})
		exp, err := otlptrace.NewGRPC(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		err = exp.Export(ctxT(t), []*trace.SpanData{span()})
		if status.Code(err) != code {
			t.Errorf("%v: error %v does not carry the status", code, err)
		}
		if errors.Is(err, trace.ErrUnavailable) != retried || errors.Is(err, trace.ErrRejected) == retried {
			t.Errorf("%v: error %v, retried should be %v", code, err, retried)
		}
		exp.Close()
	}
	addr := startReceiverGRPC(t, func(req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
		return &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "too old"}}, nil
	})
	exp, _ := otlptrace.NewGRPC(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer exp.Close()
	var pe *otlptrace.PartialError
	if err := exp.Export(ctxT(t), []*trace.SpanData{span()}); !errors.Is(err, trace.ErrRejected) || !errors.As(err, &pe) {
		t.Errorf("partial success: %v", err)
	}
}

// A receiver that is not there costs dropped spans, counted, and
// ErrUnavailable in Stats.
func TestGRPCCollectorDown(t *testing.T) {
	exp, err := otlptrace.NewGRPC(testenv.FreePort(t), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithMaxRetries(1), trace.WithExportTimeout(time.Second))
	for range 10 {
		_, s := tr.Start(context.Background(), "lost")
		s.End()
	}
	tr.Shutdown(ctxT(t))
	if st := tr.Stats(); st.Exported != 0 || st.Dropped != 10 || !errors.Is(st.LastError, trace.ErrUnavailable) {
		t.Errorf("stats %+v, want 10 dropped and ErrUnavailable", st)
	}
}
