// Package metricsgrpc records the request metrics of package metrics for
// gRPC servers and clients, under the same names and labels as
// metrics.Middleware and metrics.Transport (see metrics.RequestMetrics):
// side grpc.server or grpc.client, route the full method
// ("/pkg.Service/Method"), method the kind of call (unary, client_stream,
// server_stream, bidi_stream), class the status code mapped onto an HTTP
// class by Class.
//
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(metricsgrpc.UnaryServerInterceptor(m)),
//		grpc.ChainStreamInterceptor(metricsgrpc.StreamServerInterceptor(m)),
//	)
//	conn, err := grpc.NewClient(target,
//		grpc.WithChainUnaryInterceptor(metricsgrpc.UnaryClientInterceptor(m)),
//		grpc.WithChainStreamInterceptor(metricsgrpc.StreamClientInterceptor(m)),
//	)
package metricsgrpc

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/metrics"
)

// Class maps a gRPC status code onto the HTTP status class it corresponds
// to (as grpc-gateway maps them), so that dashboards and alerts on
// class="5xx" work the same for HTTP and gRPC: OK is 2xx; codes that blame
// the caller (InvalidArgument, NotFound, AlreadyExists, PermissionDenied,
// Unauthenticated, FailedPrecondition, OutOfRange, ResourceExhausted,
// Aborted, Canceled) are 4xx; the rest are 5xx.
func Class(c codes.Code) string {
	switch c {
	case codes.OK:
		return "2xx"
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.Unauthenticated, codes.FailedPrecondition, codes.OutOfRange, codes.ResourceExhausted,
		codes.Aborted, codes.Canceled:
		return "4xx"
	}
	return "5xx"
}

func classOf(err error) string {
	if err == nil {
		return "2xx"
	}
	return Class(status.Code(err))
}

func streamKind(client, server bool) string {
	switch {
	case client && server:
		return "bidi_stream"
	case client:
		return "client_stream"
	case server:
		return "server_stream"
	}
	return "unary"
}

// UnaryServerInterceptor records every unary call the server handles.
func UnaryServerInterceptor(m *metrics.Metrics) grpc.UnaryServerInterceptor {
	if m == nil { // nothing to record, as metrics.Middleware(nil)
		return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(ctx, req)
		}
	}
	rm := metrics.NewRequestMetrics(m, "grpc.server")
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		rm.Record(info.FullMethod, "unary", classOf(err), time.Since(start))
		return resp, err
	}
}

// StreamServerInterceptor records every stream the server handles, when
// its handler returns.
func StreamServerInterceptor(m *metrics.Metrics) grpc.StreamServerInterceptor {
	if m == nil { // nothing to record, as metrics.Middleware(nil)
		return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return h(srv, ss)
		}
	}
	rm := metrics.NewRequestMetrics(m, "grpc.server")
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		rm.Record(info.FullMethod, streamKind(info.IsClientStream, info.IsServerStream), classOf(err), time.Since(start))
		return err
	}
}

// UnaryClientInterceptor records every unary call the client makes.
func UnaryClientInterceptor(m *metrics.Metrics) grpc.UnaryClientInterceptor {
	if m == nil { // nothing to record, as metrics.Middleware(nil)
		return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return inv(ctx, method, req, reply, cc, opts...)
		}
	}
	rm := metrics.NewRequestMetrics(m, "grpc.client")
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		rm.Record(method, "unary", classOf(err), time.Since(start))
		return err
	}
}

// StreamClientInterceptor records every stream the client opens, when it
// ends: RecvMsg returns io.EOF (OK), the one answer of a client-streaming
// call, or an error; or it could not be opened.
func StreamClientInterceptor(m *metrics.Metrics) grpc.StreamClientInterceptor {
	if m == nil { // nothing to record, as metrics.Middleware(nil)
		return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, st grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return st(ctx, desc, cc, method, opts...)
		}
	}
	rm := metrics.NewRequestMetrics(m, "grpc.client")
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		start := time.Now()
		kind := streamKind(desc.ClientStreams, desc.ServerStreams)
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			rm.Record(method, kind, classOf(err), time.Since(start))
			return nil, err
		}
		return &clientStream{ClientStream: cs, serverStreams: desc.ServerStreams, done: func(err error) {
			rm.Record(method, kind, classOf(err), time.Since(start))
		}}, nil
	}
}

type clientStream struct {
	grpc.ClientStream
	serverStreams bool
	once          sync.Once
	done          func(error)
}

// RecvMsg ends the call's record at io.EOF or an error, or, when the
// server sends one message only (client streaming: CloseAndRecv), at that
// message: gRPC then returns nil and never io.EOF.
func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch {
	case err == nil && !s.serverStreams, errors.Is(err, io.EOF):
		s.once.Do(func() { s.done(nil) })
	case err != nil:
		s.once.Do(func() { s.done(err) })
	}
	return err
}
