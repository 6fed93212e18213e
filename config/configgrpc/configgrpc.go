// Package configgrpc gives gRPC servers what config.Middleware gives
// net/http ones: every call's context carries the Config's current
// Snapshot, so one call reads one version of the configuration even if a
// reload lands half-way. Read it with config.FromContext.
//
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(configgrpc.UnaryServerInterceptor(cfg)),
//		grpc.ChainStreamInterceptor(configgrpc.StreamServerInterceptor(cfg)),
//	)
package configgrpc

import (
	"context"

	"google.golang.org/grpc"

	"github.com/microos/go-os/config"
)

// UnaryServerInterceptor puts cfg's current Snapshot in each unary call's
// context.
func UnaryServerInterceptor(cfg *config.Config) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(config.NewContext(ctx, cfg.Snapshot()), req)
	}
}

// StreamServerInterceptor puts cfg's current Snapshot, taken when the
// stream opens, in the stream's context.
func StreamServerInterceptor(cfg *config.Config) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &stream{ServerStream: ss, ctx: config.NewContext(ss.Context(), cfg.Snapshot())})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }
