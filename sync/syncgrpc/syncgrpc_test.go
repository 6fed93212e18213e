package syncgrpc_test

import (
	"context"
	"net"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/syncgrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs a health server behind the interceptor of c.
func serve(t *testing.T, c *ossync.Client) healthpb.HealthClient {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.ChainUnaryInterceptor(syncgrpc.LeaderOnlyUnary(c, "singleton")))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return healthpb.NewHealthClient(cc)
}

func TestLeaderOnlyUnary(t *testing.T) {
	ctx := context.Background()
	m := ossync.NewMemoryBackend(nil)
	a, b := ossync.New(m), ossync.New(m)
	defer a.Close()
	defer b.Close()
	ha, hb := serve(t, a), serve(t, b)
	if _, err := ha.Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("no leader: %v", err)
	}
	ld, err := a.Campaign(ctx, "singleton", "10.0.0.1:9090")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ha.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("leader: %v", err)
	}
	var tr metadata.MD
	_, err = hb.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Trailer(&tr))
	if status.Code(err) != codes.Unavailable || len(tr.Get(syncgrpc.LeaderKey)) != 1 || tr.Get(syncgrpc.LeaderKey)[0] != "10.0.0.1:9090" {
		t.Fatalf("follower: %v, trailer %v", err, tr)
	}
	ld.Resign(ctx)
	if _, err := ha.Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("after Resign: %v", err)
	}
}
