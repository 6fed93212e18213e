// Package loggrpc logs gRPC calls with the log package's conventions: one
// line per call with the method, status code and duration, and the request
// id carried in the x-request-id metadata and in ctx, so that every line a
// handler logs with its ctx carries it. The interceptors compose with
// grpc.ChainUnaryInterceptor; put the tracing interceptor before them so
// that a logger built with log.WithTraceIDs adds the trace ids too.
package loggrpc

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/log"
)

// RequestIDKey is the metadata key carrying the request id.
const RequestIDKey = "x-request-id"

// serverContext takes the request id from the incoming metadata, or makes
// one, returns it to the client in the header and puts it in ctx.
func serverContext(ctx context.Context) context.Context {
	id := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(RequestIDKey); len(v) > 0 {
			id = v[0]
		}
	}
	if !log.ValidRequestID(id) {
		id = log.NewRequestID()
	}
	grpc.SetHeader(ctx, metadata.Pairs(RequestIDKey, id)) // fails only outside a call
	return log.WithRequestID(ctx, id)
}

// serverLevel: a failure the server caused is an error, one the client
// caused a warning.
func serverLevel(code codes.Code) slog.Level {
	switch code {
	case codes.OK:
		return slog.LevelInfo
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return slog.LevelError
	}
	return slog.LevelWarn
}

func logCall(ctx context.Context, logger *slog.Logger, level slog.Level, msg, method string, start time.Time, err error) {
	if !logger.Enabled(ctx, level) {
		return
	}
	code := status.Code(err)
	if err == nil {
		logger.LogAttrs(ctx, level, msg, slog.String("method", method), slog.String("code", code.String()),
			slog.Duration("duration", time.Since(start)))
		return
	}
	logger.LogAttrs(ctx, level, msg, slog.String("method", method), slog.String("code", code.String()),
		slog.Duration("duration", time.Since(start)), slog.String("error", status.Convert(err).Message()))
}

// UnaryServerInterceptor logs "grpc request" for every unary call: Info
// when it succeeded, Warn for a client's mistake, Error for the server's.
func UnaryServerInterceptor(logger *slog.Logger) grpc.UnaryServerInterceptor {
	logger = orDiscard(logger)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		ctx = serverContext(ctx)
		resp, err := handler(ctx, req)
		logCall(ctx, logger, serverLevel(status.Code(err)), "grpc request", info.FullMethod, start, err)
		return resp, err
	}
}

// StreamServerInterceptor logs "grpc stream" when a stream ends, at the
// levels of UnaryServerInterceptor.
func StreamServerInterceptor(logger *slog.Logger) grpc.StreamServerInterceptor {
	logger = orDiscard(logger)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ctx := serverContext(ss.Context())
		err := handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
		logCall(ctx, logger, serverLevel(status.Code(err)), "grpc stream", info.FullMethod, start, err)
		return err
	}
}

type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// clientContext sends the request id of ctx to the server.
func clientContext(ctx context.Context) context.Context {
	if id := log.RequestID(ctx); id != "" {
		if md, ok := metadata.FromOutgoingContext(ctx); !ok || len(md.Get(RequestIDKey)) == 0 {
			ctx = metadata.AppendToOutgoingContext(ctx, RequestIDKey, id)
		}
	}
	return ctx
}

func clientLevel(err error) slog.Level {
	if err != nil {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// UnaryClientInterceptor sends the request id of the call's ctx and logs
// "grpc client request" at Debug, or Warn when the call failed.
func UnaryClientInterceptor(logger *slog.Logger) grpc.UnaryClientInterceptor {
	logger = orDiscard(logger)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(clientContext(ctx), method, req, reply, cc, opts...)
		logCall(ctx, logger, clientLevel(err), "grpc client request", method, start, err)
		return err
	}
}

// StreamClientInterceptor sends the request id of the stream's ctx and
// logs "grpc client stream" when the stream could not be opened (Warn) or
// was opened (Debug).
func StreamClientInterceptor(logger *slog.Logger) grpc.StreamClientInterceptor {
	logger = orDiscard(logger)
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		start := time.Now()
		cs, err := streamer(clientContext(ctx), desc, cc, method, opts...)
		logCall(ctx, logger, clientLevel(err), "grpc client stream", method, start, err)
		return cs, err
	}
}

// orDiscard makes a nil logger log nothing, as log.Middleware does.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
