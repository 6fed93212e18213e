// Package echogrpc is a tiny gRPC service for the trace tests, declared by
// hand on well-known protobuf types so that no code generation is needed.
package echogrpc

import (
	"context"
	"io"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The methods the service has.
const (
	Echo   = "/echogrpc.Echo/Echo"   // unary: answers its input; "fail" fails with NotFound
	Repeat = "/echogrpc.Echo/Repeat" // server stream: sends its input three times
)

// Handler is what the service does with a unary call's ctx, before it
// answers (the tests start spans and make further calls in it).
type Handler func(ctx context.Context, in string) error

var desc = grpc.ServiceDesc{
	ServiceName: "echogrpc.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := srv.(Handler)
			call := func(ctx context.Context, req any) (any, error) {
				v := req.(*wrapperspb.StringValue).GetValue()
				if v == "fail" {
					return nil, status.Error(codes.NotFound, "no such thing")
				}
				if h != nil {
					if err := h(ctx, v); err != nil {
						return nil, err
					}
				}
				return wrapperspb.String(v), nil
			}
			if icpt == nil {
				return call(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: Echo}, call)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Repeat",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			for range 3 {
				if err := stream.SendMsg(in); err != nil {
					return err
				}
			}
			return nil
		},
	}},
}

// Start serves the service on a loopback port with the server options
// (interceptors) and returns its address; the test's cleanup stops it.
func Start(t testing.TB, h Handler, opts ...grpc.ServerOption) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&desc, h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return l.Addr().String()
}

// Dial connects to addr with the dial options (interceptors); the test's
// cleanup closes the connection.
func Dial(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Call makes a unary Echo call.
func Call(ctx context.Context, conn *grpc.ClientConn, in string) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, Echo, wrapperspb.String(in), out)
	return out.GetValue(), err
}

// Stream calls Repeat and reads the stream to its end.
func Stream(ctx context.Context, conn *grpc.ClientConn, in string) ([]string, error) {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Repeat", ServerStreams: true}, Repeat)
	if err != nil {
		return nil, err
	}
	if err := s.SendMsg(wrapperspb.String(in)); err != nil {
		return nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		if err := s.RecvMsg(m); err != nil {
			if err == io.EOF {
				return got, nil
			}
			return got, err
		}
		got = append(got, m.GetValue())
	}
}
