package metricsgrpc_test

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricsgrpc"
)

func ExampleUnaryServerInterceptor() {
	m := metrics.NewMemory()
	intercept := metricsgrpc.UnaryServerInterceptor(m) // grpc.ChainUnaryInterceptor(intercept) on a real server
	info := &grpc.UnaryServerInfo{FullMethod: "/shop.Orders/Place"}
	ok := func(context.Context, any) (any, error) { return "placed", nil }
	busy := func(context.Context, any) (any, error) { return nil, status.Error(codes.Unavailable, "busy") }
	intercept(context.Background(), nil, info, ok)
	intercept(context.Background(), nil, info, busy)

	snap, _ := m.Snapshot()
	for _, p := range snap {
		if p.Name == "grpc.server.requests_total" {
			fmt.Println(p.Label("route"), p.Label("method"), p.Label("class"), p.Value)
		}
	}
	// Output:
	// /shop.Orders/Place unary 2xx 1
	// /shop.Orders/Place unary 5xx 1
}
