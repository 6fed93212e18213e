// Package tracegrpc traces gRPC calls with a trace.Tracer: unary and stream
// interceptors for both sides, composable with grpc.ChainUnaryInterceptor
// and grpc.ChainStreamInterceptor.
//
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(tracegrpc.UnaryServerInterceptor(tr)),
//		grpc.ChainStreamInterceptor(tracegrpc.StreamServerInterceptor(tr)))
//	conn, err := grpc.NewClient(addr,
//		grpc.WithChainUnaryInterceptor(tracegrpc.UnaryClientInterceptor(tr)),
//		grpc.WithChainStreamInterceptor(tracegrpc.StreamClientInterceptor(tr)))
//
// A server span joins the caller's trace from the request metadata (W3C or
// B3, as trace.Extract reads it); a client span is a child of the span in
// the call's context and sends its context in the tracer's formats. Spans
// are named after the full method ("/pkg.Service/Method") and tagged with
// OpenTelemetry's semantic-convention attributes (rpc.system "grpc",
// rpc.service, rpc.method, rpc.grpc.status_code as a number, and on client
// spans server.address and server.port from the target; zipkintrace
// sends the code as Zipkin's grpc.status_code name); a status other than
// OK marks them failed.
package tracegrpc

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/trace"
)

// Tag keys the interceptors set (OpenTelemetry's semantic conventions).
const (
	TagSystem  = "rpc.system"           // "grpc"
	TagService = "rpc.service"          // "pkg.Service"
	TagMethod  = "rpc.method"           // "Method"
	TagCode    = "rpc.grpc.status_code" // "0" for OK: the numeric code
)

// tagMethod sets rpc.system, rpc.service and rpc.method from a full method
// name "/pkg.Service/Method".
func tagMethod(span *trace.Span, full string) {
	service, method, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok {
		service, method = "", full
	}
	span.SetTag(TagSystem, "grpc")
	span.SetTag(TagService, service)
	span.SetTag(TagMethod, method)
}

// codeStrings holds the codes as strings, so tagging does not allocate.
var codeStrings = func() (s [17]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func codeString(c codes.Code) string {
	if int(c) < len(codeStrings) {
		return codeStrings[c]
	}
	return strconv.FormatUint(uint64(c), 10)
}

// Carrier adapts gRPC metadata to trace.Carrier (gRPC keys are lower case).
type Carrier metadata.MD

func (c Carrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of key, so that Extract sees two different
// traceparent values (a new trace) and combines several tracestate values.
func (c Carrier) Values(key string) []string { return metadata.MD(c).Get(key) }

func (c Carrier) Set(key, value string) { metadata.MD(c).Set(strings.ToLower(key), value) }

func startServer(ctx context.Context, t *trace.Tracer, method string) (context.Context, *trace.Span) {
	opts := []trace.StartOption{trace.Server}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if sc, ok := trace.Extract(Carrier(md)); ok {
			opts = append(opts, trace.WithParent(sc))
		}
	}
	ctx, span := t.Start(ctx, method, opts...)
	if span.IsRecording() {
		tagMethod(span, method)
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			if ap, err := netip.ParseAddrPort(p.Addr.String()); err == nil {
				span.SetRemote(trace.Endpoint{Addr: ap})
			}
		}
	}
	return ctx, span
}

func finish(span *trace.Span, err error) {
	if span.IsRecording() {
		code := status.Code(err)
		span.SetTag(TagCode, codeString(code))
		if code != codes.OK {
			span.SetError(err)
		}
	}
	span.End()
}

// UnaryServerInterceptor traces unary calls a server receives.
func UnaryServerInterceptor(t *trace.Tracer) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if t == nil {
			return handler(ctx, req)
		}
		ctx, span := startServer(ctx, t, info.FullMethod)
		resp, err := handler(ctx, req)
		finish(span, err)
		return resp, err
	}
}

// StreamServerInterceptor traces streams a server receives; the span lasts
// as long as the handler.
func StreamServerInterceptor(t *trace.Tracer) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if t == nil {
			return handler(srv, ss)
		}
		ctx, span := startServer(ss.Context(), t, info.FullMethod)
		err := handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
		finish(span, err)
		return err
	}
}

type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

func startClient(ctx context.Context, t *trace.Tracer, method, target string) (context.Context, *trace.Span) {
	ctx, span := t.Start(ctx, method, trace.Client)
	if span.IsRecording() {
		tagMethod(span, method)
		if ap, err := netip.ParseAddrPort(target); err == nil {
			span.SetRemote(trace.Endpoint{Addr: ap})
		}
		// server.address and server.port from the target, without a
		// resolver scheme ("dns:///host:443" is host and 443).
		hostport := target
		if i := strings.LastIndex(hostport, "/"); i >= 0 {
			hostport = hostport[i+1:]
		}
		if host, port, err := net.SplitHostPort(hostport); err == nil {
			span.SetTag(trace.TagServerAddress, host)
			span.SetTag(trace.TagServerPort, port)
		} else if hostport != "" {
			span.SetTag(trace.TagServerAddress, hostport)
		}
	}
	md, ok := metadata.FromOutgoingContext(ctx)
	if ok {
		md = md.Copy()
		for _, h := range trace.Headers {
			md.Delete(h) // a forwarded caller's headers must not outlive ours
		}
	} else {
		md = metadata.MD{}
	}
	t.Inject(ctx, Carrier(md))
	return metadata.NewOutgoingContext(ctx, md), span
}

// UnaryClientInterceptor traces unary calls a client makes.
func UnaryClientInterceptor(t *trace.Tracer) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if t == nil {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		ctx, span := startClient(ctx, t, method, cc.Target())
		err := invoker(ctx, method, req, reply, cc, opts...)
		finish(span, err)
		return err
	}
}

// StreamClientInterceptor traces streams a client opens. The span ends when
// the stream does: when RecvMsg returns an error (io.EOF counts as success)
// or, for a stream whose server sends one message, when it arrives. A
// stream the caller abandons without reading to the end records nothing.
func StreamClientInterceptor(t *trace.Tracer) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if t == nil {
			return streamer(ctx, desc, cc, method, opts...)
		}
		ctx, span := startClient(ctx, t, method, cc.Target())
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			finish(span, err)
			return nil, err
		}
		return &clientStream{ClientStream: cs, span: span, serverStreams: desc.ServerStreams}, nil
	}
}

type clientStream struct {
	grpc.ClientStream
	span          *trace.Span
	serverStreams bool
}

func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch {
	case err == io.EOF:
		finish(s.span, nil)
	case err != nil:
		finish(s.span, err)
	case !s.serverStreams:
		finish(s.span, nil)
	}
	return err
}
