// Package authgrpc authenticates and authorizes gRPC calls with package
// auth: per-RPC credentials and client interceptors that add a
// client-credentials bearer token to every call, and server interceptors
// that verify it and apply a Policy per full method.
//
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(authgrpc.UnaryServerInterceptor(verifier, policy)),
//		grpc.ChainStreamInterceptor(authgrpc.StreamServerInterceptor(verifier, policy)))
//	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(tlsCreds),
//		grpc.WithChainUnaryInterceptor(authgrpc.UnaryClientInterceptor(source)),
//		grpc.WithChainStreamInterceptor(authgrpc.StreamClientInterceptor(source)))
//
// On the client, use either the interceptors (a unary call answered
// Unauthenticated is retried once with a fresh token, as auth.Transport
// does on 401) or PerRPCCredentials (grpc.WithPerRPCCredentials), not both.
// Both refuse to send a token over a connection without transport
// security unless WithInsecure.
//
// On the server, a missing or rejected token is codes.Unauthenticated with
// the rejection reason (auth.Reason) as message, an authorization server
// that cannot be reached codes.Unavailable (fail closed), a policy denial
// codes.PermissionDenied with the decision's reason. The policy sees
// auth.Request{Service: WithServiceName, Method: the full method
// ("/pkg.Service/Method")}. The handler finds the claims with
// auth.ClaimsFrom(ctx).
package authgrpc

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/auth"
)

// Option configures the interceptors and credentials.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	service  string
	public   []string
	insecure bool
}

func newOptions(opts []Option) options {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithLogger sets the logger of rejections and denials (discarded by
// default). Tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithServiceName names the service for policy rules (Request.Service).
func WithServiceName(name string) Option { return func(o *options) { o.service = name } }

// WithPublic lists full methods (patterns as in auth.Rule: exact, "*", a
// trailing "*") that the server interceptors let through without a token,
// such as "/grpc.health.v1.Health/*".
func WithPublic(methods ...string) Option {
	return func(o *options) { o.public = append(o.public, methods...) }
}

// WithInsecure lets the client side send tokens over a connection without
// transport security (loopback tests). Off by default: a bearer token on a
// plaintext connection is anyone's.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// PerRPCCredentials returns credentials that add source's bearer token to
// every call (grpc.WithPerRPCCredentials). A token that cannot be had is
// codes.Unavailable, within the call's deadline.
func PerRPCCredentials(source *auth.TokenSource, opts ...Option) credentials.PerRPCCredentials {
	return &perRPC{src: source, o: newOptions(opts)}
}

type perRPC struct {
	src *auth.TokenSource
	o   options
}

func (p *perRPC) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := p.src.Token(ctx)
	if err != nil {
		return nil, tokenError(err)
	}
	return map[string]string{"authorization": "Bearer " + tok.AccessToken}, nil
}

func (p *perRPC) RequireTransportSecurity() bool { return !p.o.insecure }

func tokenError(err error) error {
	code := codes.Unavailable
	if errors.Is(err, auth.ErrForbidden) || errors.Is(err, auth.ErrInvalid) {
		code = codes.Unauthenticated
	}
	return status.Errorf(code, "authgrpc: no token for the call: %v", err)
}

// callToken is the token of one call as per-call credentials, so that
// gRPC itself refuses to send it over a connection without transport
// security (codes.Unauthenticated) unless WithInsecure.
type callToken struct {
	md       map[string]string
	insecure bool
}

func (c callToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return c.md, nil
}

func (c callToken) RequireTransportSecurity() bool { return !c.insecure }

func (o options) withToken(callOpts []grpc.CallOption, token string) []grpc.CallOption {
	ct := callToken{md: map[string]string{"authorization": "Bearer " + token}, insecure: o.insecure}
	return append(callOpts[:len(callOpts):len(callOpts)], grpc.PerRPCCredentials(ct))
}

// UnaryClientInterceptor adds source's bearer token to every unary call;
// a call answered Unauthenticated is retried once with a fresh token.
func UnaryClientInterceptor(source *auth.TokenSource, opts ...Option) grpc.UnaryClientInterceptor {
	o := newOptions(opts)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
		tok, err := source.Token(ctx)
		if err != nil {
			return tokenError(err)
		}
		err = invoker(ctx, method, req, reply, cc, o.withToken(callOpts, tok.AccessToken)...)
		if status.Code(err) != codes.Unauthenticated {
			return err
		}
		source.Invalidate(tok.AccessToken)
		tok2, terr := source.Token(ctx)
		if terr != nil || tok2.AccessToken == tok.AccessToken {
			return err
		}
		return invoker(ctx, method, req, reply, cc, o.withToken(callOpts, tok2.AccessToken)...)
	}
}

// StreamClientInterceptor adds source's bearer token to every stream (a
// stream is not retried: its messages cannot be replayed).
func StreamClientInterceptor(source *auth.TokenSource, opts ...Option) grpc.StreamClientInterceptor {
	o := newOptions(opts)
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
		tok, err := source.Token(ctx)
		if err != nil {
			return nil, tokenError(err)
		}
		return streamer(ctx, desc, cc, method, o.withToken(callOpts, tok.AccessToken)...)
	}
}

// Verification side.

type serverAuth struct {
	v      auth.Verifier
	policy *auth.Policy
	o      options
}

func (s *serverAuth) public(method string) bool {
	for _, p := range s.o.public {
		if p == "*" || p == method || strings.HasSuffix(p, "*") && strings.HasPrefix(method, p[:len(p)-1]) {
			return true
		}
	}
	return false
}

// authorize verifies the call's token and applies the policy; it returns
// the ctx carrying the claims or a status error.
func (s *serverAuth) authorize(ctx context.Context, method string) (context.Context, error) {
	if s.public(method) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return nil, status.Error(codes.Unauthenticated, "authgrpc: no bearer token")
	}
	if len(vals) > 1 {
		return nil, status.Error(codes.Unauthenticated, "authgrpc: more than one authorization value")
	}
	token, ok := auth.BearerToken(vals[0])
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "authgrpc: authorization is not a bearer token")
	}
	claims, err := s.v.Verify(ctx, token)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			s.o.logger.LogAttrs(ctx, slog.LevelInfo, "authgrpc: token rejected", slog.String("method", method), slog.String("reason", auth.Reason(err)))
			return nil, status.Error(codes.Unauthenticated, "authgrpc: invalid token: "+auth.Reason(err))
		}
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		s.o.logger.LogAttrs(ctx, slog.LevelWarn, "authgrpc: cannot verify token", slog.String("method", method), slog.Any("error", err))
		return nil, status.Error(codes.Unavailable, "authgrpc: authorization server unavailable")
	}
	if s.policy != nil {
		d := s.policy.Decide(auth.Request{Service: s.o.service, Method: method}, claims)
		if !d.Allow {
			s.o.logger.LogAttrs(ctx, slog.LevelInfo, "authgrpc: denied by policy", slog.String("method", method), slog.String("reason", d.Reason), slog.String("client_id", claims.ClientID), slog.String("sub", claims.Subject))
			return nil, status.Error(codes.PermissionDenied, "authgrpc: "+d.Reason)
		}
	}
	return auth.NewContext(ctx, claims), nil
}

// UnaryServerInterceptor verifies the bearer token of every unary call
// with verifier and authorizes it with policy (nil: any valid token).
func UnaryServerInterceptor(verifier auth.Verifier, policy *auth.Policy, opts ...Option) grpc.UnaryServerInterceptor {
	s := &serverAuth{v: verifier, policy: policy, o: newOptions(opts)}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := s.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor verifies the bearer token of every stream when
// it opens, and authorizes it with policy (nil: any valid token).
func StreamServerInterceptor(verifier auth.Verifier, policy *auth.Policy, opts ...Option) grpc.StreamServerInterceptor {
	s := &serverAuth{v: verifier, policy: policy, o: newOptions(opts)}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := s.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }
