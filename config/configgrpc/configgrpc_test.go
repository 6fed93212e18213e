package configgrpc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configgrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestInterceptors runs a real gRPC server and client on loopback: the
// health service's calls pass through a chain in which a second
// interceptor reads the snapshot the first put in the context.
func TestInterceptors(t *testing.T) {
	mem := config.NewMemory(map[string]any{"version": "v1"})
	cfg, err := config.New(context.Background(), []config.Source{mem})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()

	seen := make(chan string, 4)
	read := func(ctx context.Context) {
		if s := config.FromContext(ctx); s != nil {
			seen <- s.Get("version").String("")
		} else {
			seen <- "no snapshot"
		}
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(configgrpc.UnaryServerInterceptor(cfg),
			func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				read(ctx)
				return h(ctx, req)
			}),
		grpc.ChainStreamInterceptor(configgrpc.StreamServerInterceptor(cfg),
			func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				read(ss.Context())
				return h(srv, ss)
			}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Stop()

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "v1" {
		t.Fatalf("unary call saw %q, want v1", got)
	}
	if err := mem.SetValue("v2", "version"); err != nil {
		t.Fatal(err)
	}
	for cfg.Get("version").String("") != "v2" {
		select {
		case <-ctx.Done():
			t.Fatal("reload not seen")
		case <-time.After(time.Millisecond): // polling a condition with a deadline
		}
	}
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "v2" {
		t.Fatalf("stream saw %q, want v2", got)
	}
}
