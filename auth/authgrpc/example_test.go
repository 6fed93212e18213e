package authgrpc_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authgrpc"
)

func Example() {
	ctx := context.Background()
	a, _ := auth.Open(ctx, "mem://?client_id=watcher&scope=health.watch&audience=health")
	defer a.Close()
	policy, _ := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Method: "/grpc.health.v1.Health/Check", Scopes: []string{"health.check"}},
		{Method: "/grpc.health.v1.Health/Watch", Scopes: []string{"health.watch"}},
	}})

	l := bufconn.Listen(1 << 16)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(authgrpc.UnaryServerInterceptor(a.Verifier, policy)),
		grpc.ChainStreamInterceptor(authgrpc.StreamServerInterceptor(a.Verifier, policy)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(l)
	defer srv.Stop()

	conn, _ := grpc.NewClient("passthrough:///example",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()), // loopback only: use TLS in production
		grpc.WithChainUnaryInterceptor(authgrpc.UnaryClientInterceptor(a.Source, authgrpc.WithInsecure())),
		grpc.WithChainStreamInterceptor(authgrpc.StreamClientInterceptor(a.Source, authgrpc.WithInsecure())))
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Println(status.Code(err), status.Convert(err).Message())
	w, _ := client.Watch(ctx, &healthpb.HealthCheckRequest{})
	m, err := w.Recv()
	fmt.Println(m.GetStatus(), err)
	// Output:
	// PermissionDenied authgrpc: rule 0: scope "health.check" missing
	// SERVING <nil>
}
