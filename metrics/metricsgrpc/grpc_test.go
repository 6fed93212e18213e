package metricsgrpc_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricsgrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts a health server with the interceptors on an in-memory
// listener and returns a client with the interceptors, and a func that
// stops the server once its handlers have returned.
func serve(t *testing.T, serverM, clientM *metrics.Metrics) (healthpb.HealthClient, func()) {
	t.Helper()
	l := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(metricsgrpc.UnaryServerInterceptor(serverM)),
		grpc.ChainStreamInterceptor(metricsgrpc.StreamServerInterceptor(serverM)),
	)
	hs := health.NewServer()
	hs.SetServingStatus("up", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(metricsgrpc.UnaryClientInterceptor(clientM)),
		grpc.WithChainStreamInterceptor(metricsgrpc.StreamClientInterceptor(clientM)),
	)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.GracefulStop() // waits for the handlers to return
			<-done
		})
	}
	t.Cleanup(func() {
		conn.Close()
		hs.Shutdown()
		stop()
	})
	return healthpb.NewHealthClient(conn), stop
}

func TestInterceptors(t *testing.T) {
	sm, cm := metrics.NewMemory(), metrics.NewMemory()
	client, stopServer := serve(t, sm, cm)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for range 2 {
		if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Check(nope) = %v, want NotFound", err)
	}
	// A server stream the client cancels after the first message.
	wctx, wcancel := context.WithCancel(ctx)
	w, err := client.Watch(wctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	wcancel()
	if _, err := w.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after cancel = %v, want Canceled", err)
	}

	const check, watch = "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"
	// The server records the stream when its handler returns, after the
	// cancel reached it: GracefulStop waits for that.
	stopServer()
	for side, m := range map[string]*metrics.Metrics{"grpc.server": sm, "grpc.client": cm} {
		snap, _ := m.Snapshot()
		for _, c := range []struct {
			name string
			kv   []string
			want float64
		}{
			{side + ".requests_total", []string{"route", check, "method", "unary", "class", "2xx"}, 2},
			{side + ".requests_total", []string{"route", check, "method", "unary", "class", "4xx"}, 1},
			{side + ".errors_total", []string{"route", check, "class", "4xx"}, 1},
			{side + ".requests_total", []string{"route", watch, "method", "server_stream", "class", "4xx"}, 1},
			{side + ".request_duration_seconds", []string{"route", check, "method", "unary"}, 3},
		} {
			if got := snap.Value(c.name, c.kv...); got != c.want {
				t.Errorf("%s%v = %v, want %v", c.name, c.kv, got, c.want)
			}
		}
	}
}

func TestClass(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.OK: "2xx", codes.NotFound: "4xx", codes.Canceled: "4xx", codes.Unauthenticated: "4xx",
		codes.Internal: "5xx", codes.Unavailable: "5xx", codes.DeadlineExceeded: "5xx", codes.Unknown: "5xx",
	} {
		if got := metricsgrpc.Class(c); got != want {
			t.Errorf("Class(%v) = %q, want %q", c, got, want)
		}
	}
}
