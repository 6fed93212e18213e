// Package syncgrpc has the gRPC side of sync.LeaderOnly: server
// interceptors that serve calls only on the leader of an election, for
// singleton services. Other instances fail calls with codes.Unavailable
// and the leader's candidate value in the "x-leader" trailer, so that a
// client can go there. Compose them with grpc.ChainUnaryInterceptor.
package syncgrpc

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	ossync "github.com/microos/go-os/sync"
)

// LeaderKey is the trailer that names the leader on a refused call.
const LeaderKey = "x-leader"

func refuse(ctx context.Context, c *ossync.Client, election string) error {
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ld, err := c.Leader(lctx, election)
	if err != nil {
		return status.Errorf(codes.Unavailable, "not the leader of %q; leader unknown: %v", election, err)
	}
	grpc.SetTrailer(ctx, metadata.Pairs(LeaderKey, ld.Candidate))
	return status.Errorf(codes.Unavailable, "not the leader of %q; the leader is %q", election, ld.Candidate)
}

// LeaderOnlyUnary serves unary calls only while c leads election.
func LeaderOnlyUnary(c *ossync.Client, election string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		if c.Leading(election) == nil {
			return nil, refuse(ctx, c, election)
		}
		return next(ctx, req)
	}
}

// LeaderOnlyStream serves streams only while c leads election (checked
// when the stream starts).
func LeaderOnlyStream(c *ossync.Client, election string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
		if c.Leading(election) == nil {
			ctx := ss.Context()
			lctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			ld, err := c.Leader(lctx, election)
			if err != nil {
				return status.Errorf(codes.Unavailable, "not the leader of %q; leader unknown: %v", election, err)
			}
			ss.SetTrailer(metadata.Pairs(LeaderKey, ld.Candidate))
			return status.Errorf(codes.Unavailable, "not the leader of %q; the leader is %q", election, ld.Candidate)
		}
		return next(srv, ss)
	}
}
