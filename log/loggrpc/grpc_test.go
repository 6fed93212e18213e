package loggrpc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/log"
	"github.com/microos/go-os/log/loggrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// healthServer records the request id its handlers see.
type healthServer struct {
	*health.Server
	seen chan string
}

func (h *healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.seen <- log.RequestID(ctx)
	if req.Service == "missing" {
		return nil, status.Error(codes.NotFound, "no such service")
	}
	return h.Server.Check(ctx, req)
}

func TestInterceptors(t *testing.T) {
	serverOut, clientOut := log.NewMemory(), log.NewMemory()
	serverLog, err := log.New(log.WithOutput(serverOut))
	if err != nil {
		t.Fatal(err)
	}
	defer serverLog.Close()
	clientLog, err := log.New(log.WithOutput(clientOut), log.WithLevel(-4))
	if err != nil {
		t.Fatal(err)
	}
	defer clientLog.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(loggrpc.UnaryServerInterceptor(serverLog.Logger)),
		grpc.ChainStreamInterceptor(loggrpc.StreamServerInterceptor(serverLog.Logger)))
	hs := &healthServer{Server: health.NewServer(), seen: make(chan string, 10)}
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(loggrpc.UnaryClientInterceptor(clientLog.Logger)),
		grpc.WithChainStreamInterceptor(loggrpc.StreamClientInterceptor(clientLog.Logger)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var header metadata.MD
	if _, err := client.Check(log.WithRequestID(ctx, "req-42"), &healthpb.HealthCheckRequest{}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := <-hs.seen; got != "req-42" {
		t.Errorf("server handler saw request id %q, want req-42", got)
	}
	if got := header.Get(loggrpc.RequestIDKey); len(got) != 1 || got[0] != "req-42" {
		t.Errorf("response header %v", got)
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "missing"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Check(missing) = %v", err)
	}
	if got := <-hs.seen; len(got) != 16 {
		t.Errorf("server made request id %q, want 16 hex digits", got)
	}
	// A stream: Watch sends the current status, then we hang up.
	sctx, scancel := context.WithCancel(ctx)
	stream, err := client.Watch(sctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	scancel()
	srv.GracefulStop() // waits for the stream handler to return and log

	es, err := serverOut.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("server lines: %v", es)
	}
	ok, notFound, watch := es[0], es[1], es[2]
	if ok["msg"] != "grpc request" || ok["method"] != "/grpc.health.v1.Health/Check" || ok["code"] != "OK" || ok["request_id"] != "req-42" || ok["level"] != "INFO" {
		t.Errorf("ok line: %v", ok)
	}
	if notFound["code"] != "NotFound" || notFound["level"] != "WARN" || notFound["error"] != "no such service" {
		t.Errorf("not-found line: %v", notFound)
	}
	if watch["msg"] != "grpc stream" || watch["method"] != "/grpc.health.v1.Health/Watch" || watch["code"] != "Canceled" {
		t.Errorf("stream line: %v", watch)
	}
	ces, _ := clientOut.Entries()
	if len(ces) != 3 || ces[0]["msg"] != "grpc client request" || ces[0]["request_id"] != "req-42" || ces[1]["level"] != "WARN" || ces[2]["msg"] != "grpc client stream" {
		t.Errorf("client lines: %v", ces)
	}
}

func TestNilLoggerInterceptors(t *testing.T) {
	// Built with a nil logger, the interceptors log nothing instead of
	// panicking on the first call.
	_, err := loggrpc.UnaryServerInterceptor(nil)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x.Y/Z"},
		func(context.Context, any) (any, error) { return "ok", nil })
	if err != nil {
		t.Fatal(err)
	}
}
