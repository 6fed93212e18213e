package authgrpc_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authgrpc"
	"github.com/microos/go-os/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	aud   = "https://health.test"
	check = "/grpc.health.v1.Health/Check"
	watch = "/grpc.health.v1.Health/Watch"
)

// server is a real gRPC health server behind the auth interceptors on an
// in-memory listener. It records the claims each handler saw and how many
// calls got past the interceptors.
type server struct {
	l       *bufconn.Listener
	mu      sync.Mutex
	claims  []*auth.Claims
	reached atomic.Int64
}

func serve(t *testing.T, v auth.Verifier, p *auth.Policy, opts ...authgrpc.Option) *server {
	t.Helper()
	s := &server{l: bufconn.Listen(1 << 20)}
	record := func(ctx context.Context) {
		s.reached.Add(1)
		s.mu.Lock()
		s.claims = append(s.claims, auth.ClaimsFrom(ctx))
		s.mu.Unlock()
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(authgrpc.UnaryServerInterceptor(v, p, opts...),
			func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				record(ctx)
				return h(ctx, req)
			}),
		grpc.ChainStreamInterceptor(authgrpc.StreamServerInterceptor(v, p, opts...),
			func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				record(ss.Context())
				return h(srv, ss)
			}),
	)
	hs := health.NewServer()
	hs.SetServingStatus("up", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(s.l) }()
	t.Cleanup(func() {
		hs.Shutdown()
		srv.Stop()
		<-done
	})
	return s
}

func (s *server) lastClaims() *auth.Claims {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.claims) == 0 {
		return nil
	}
	return s.claims[len(s.claims)-1]
}

func (s *server) dial(t *testing.T, opts ...grpc.DialOption) healthpb.HealthClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///bufnet", append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func interceptors(src *auth.TokenSource, opts ...authgrpc.Option) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(authgrpc.UnaryClientInterceptor(src, opts...)),
		grpc.WithChainStreamInterceptor(authgrpc.StreamClientInterceptor(src, opts...)),
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, what string, err error, code codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), msg) {
		t.Fatalf("%s: %v, want %v containing %q", what, err, code, msg)
	}
}

func policy(t *testing.T) *auth.Policy {
	p, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Method: check, Scopes: []string{"read"}},
		{Method: watch, Scopes: []string{"watch"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func memSetup(t *testing.T) (*auth.MemoryIssuer, *auth.JWTVerifier, func(id string, scopes ...string) *auth.TokenSource) {
	iss := auth.NewMemoryIssuer()
	t.Cleanup(iss.Close)
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud), auth.WithTokenType("at+jwt"))
	t.Cleanup(func() { v.Close() })
	source := func(id string, scopes ...string) *auth.TokenSource {
		iss.AddClient(id, id+"-secret", scopes...)
		src := auth.NewTokenSource(iss.URL()+"/token", id, id+"-secret", nil, auth.WithAudience(aud))
		t.Cleanup(func() { src.Close() })
		return src
	}
	return iss, v, source
}

func TestServerAndClientInterceptors(t *testing.T) {
	_, v, source := memSetup(t)
	s := serve(t, v, policy(t), authgrpc.WithServiceName("health"))
	ctx := ctxT(t)

	reader := s.dial(t, interceptors(source("svc-reader", "read"), authgrpc.WithInsecure())...)
	if _, err := reader.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatal(err)
	}
	if c := s.lastClaims(); c == nil || c.ClientID != "svc-reader" || !c.HasScope("read") {
		t.Fatalf("claims in the handler: %+v", c)
	}
	// A stream the policy denies: PermissionDenied with the reason, the
	// handler never reached.
	before := s.reached.Load()
	w, err := reader.Watch(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err == nil {
		_, err = w.Recv()
	}
	wantCode(t, "Watch without scope watch", err, codes.PermissionDenied, `scope "watch" missing`)
	if s.reached.Load() != before {
		t.Fatal("a denied stream reached the handler")
	}

	watcher := s.dial(t, interceptors(source("svc-watcher", "watch"), authgrpc.WithInsecure())...)
	wctx, wcancel := context.WithCancel(ctx)
	w, err = watcher.Watch(wctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := w.Recv(); err != nil || m.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch: %v %v", m, err)
	}
	wcancel()
	if c := s.lastClaims(); c == nil || c.ClientID != "svc-watcher" {
		t.Fatalf("claims in the stream handler: %+v", c)
	}
	_, err = watcher.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	wantCode(t, "Check without scope read", err, codes.PermissionDenied, `scope "read" missing`)
}

func TestServerRejections(t *testing.T) {
	iss, v, _ := memSetup(t)
	s := serve(t, v, nil)
	plain := s.dial(t)
	ctx := ctxT(t)
	good := iss.Mint(auth.Token{Subject: "s", Audience: []string{aud}})
	cases := []struct {
		name string
		md   []string
		msg  string
	}{
		{"no token", nil, "no bearer token"},
		{"not bearer", []string{"authorization", "Basic abc"}, "not a bearer token"},
		{"two tokens", []string{"authorization", "Bearer " + good, "authorization", "Bearer " + good}, "more than one"},
		{"bad signature", []string{"authorization", "Bearer " + good[:len(good)-4] + "AAAA"}, "bad signature"},
		{"wrong audience", []string{"authorization", "Bearer " + iss.Mint(auth.Token{Subject: "s", Audience: []string{"other"}})}, "wrong audience"},
		{"expired", []string{"authorization", "Bearer " + iss.Mint(auth.Token{Subject: "s", Audience: []string{aud}, Expiry: time.Now().Add(-time.Hour)})}, "token expired"},
		{"garbage", []string{"authorization", "Bearer not-a-token"}, "malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.reached.Load()
			cctx := ctx
			if c.md != nil {
				cctx = metadata.AppendToOutgoingContext(ctx, c.md...)
			}
			_, err := plain.Check(cctx, &healthpb.HealthCheckRequest{Service: "up"})
			wantCode(t, c.name, err, codes.Unauthenticated, c.msg)
			w, err := plain.Watch(cctx, &healthpb.HealthCheckRequest{Service: "up"})
			if err == nil {
				_, err = w.Recv()
			}
			wantCode(t, c.name+" (stream)", err, codes.Unauthenticated, c.msg)
			if s.reached.Load() != before {
				t.Fatal("a rejected call reached the handler")
			}
		})
	}
	// The good token passes (the cases above fail for their reason only).
	if _, err := plain.Check(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+good), &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatal(err)
	}
}

func TestPublicMethods(t *testing.T) {
	_, v, _ := memSetup(t)
	s := serve(t, v, nil, authgrpc.WithPublic("/grpc.health.v1.Health/C*"))
	plain := s.dial(t)
	ctx := ctxT(t)
	if _, err := plain.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatalf("public method: %v", err)
	}
	w, err := plain.Watch(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err == nil {
		_, err = w.Recv()
	}
	wantCode(t, "Watch is not public", err, codes.Unauthenticated, "no bearer token")
}

// A token is never sent over a connection without transport security
// unless WithInsecure: the call fails before reaching the server.
func TestRefusesInsecureTransport(t *testing.T) {
	_, v, source := memSetup(t)
	s := serve(t, v, nil)
	ctx := ctxT(t)
	src := source("svc-a", "read")
	c := s.dial(t, interceptors(src)...)
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	wantCode(t, "unary", err, codes.Unauthenticated, "insecure")
	w, err := c.Watch(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err == nil {
		_, err = w.Recv()
	}
	wantCode(t, "stream", err, codes.Unauthenticated, "insecure")
	// PerRPCCredentials: gRPC refuses the connection itself.
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(authgrpc.PerRPCCredentials(src)))
	if err == nil {
		conn.Close()
		t.Fatal("per-RPC credentials accepted on an insecure connection")
	}
	if n := s.reached.Load(); n != 0 {
		t.Fatalf("%d calls reached the server", n)
	}
}

func TestPerRPCCredentials(t *testing.T) {
	_, v, source := memSetup(t)
	s := serve(t, v, policy(t))
	c := s.dial(t, grpc.WithPerRPCCredentials(authgrpc.PerRPCCredentials(source("svc-rpc", "read", "watch"), authgrpc.WithInsecure())))
	ctx := ctxT(t)
	if _, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatal(err)
	}
	if cl := s.lastClaims(); cl == nil || cl.ClientID != "svc-rpc" {
		t.Fatalf("claims %+v", cl)
	}
	w, err := c.Watch(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
}

// rejectOnce is the real verifier, except that it answers the first token
// it sees as revoked once: the client must retry with a fresh token.
type rejectOnce struct {
	auth.Verifier
	mu    sync.Mutex
	first string
}

func (r *rejectOnce) Verify(ctx context.Context, tok string) (*auth.Claims, error) {
	r.mu.Lock()
	if r.first == "" {
		r.first = tok
		r.mu.Unlock()
		return nil, auth.ErrRevoked
	}
	r.mu.Unlock()
	return r.Verifier.Verify(ctx, tok)
}

func TestClientRetriesOnceWithFreshToken(t *testing.T) {
	_, v, source := memSetup(t)
	s := serve(t, &rejectOnce{Verifier: v}, nil)
	src := source("svc-retry", "read")
	c := s.dial(t, interceptors(src, authgrpc.WithInsecure())...)
	ctx := ctxT(t)
	if _, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatalf("retry with a fresh token: %v", err)
	}
	if n := src.Fetches(); n != 2 {
		t.Fatalf("token fetches %d, want 2", n)
	}
	// A token rejected every time: one retry only, then the error.
	other := auth.NewMemoryIssuer()
	defer other.Close()
	other.AddClient("x", "x-secret")
	foreign := auth.NewTokenSource(other.URL()+"/token", "x", "x-secret", nil, auth.WithAudience(aud))
	defer foreign.Close()
	c2 := s.dial(t, interceptors(foreign, authgrpc.WithInsecure())...)
	_, err := c2.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	wantCode(t, "token of another issuer", err, codes.Unauthenticated, "invalid token")
	if n := foreign.Fetches(); n != 2 {
		t.Fatalf("token fetches %d, want 2 (one retry)", n)
	}
	// Refused again and again: no fetch per call (the source honours one
	// invalidation per interval).
	for range 20 {
		_, err := c2.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"})
		wantCode(t, "token of another issuer", err, codes.Unauthenticated, "invalid token")
	}
	if n := foreign.Fetches(); n != 2 {
		t.Fatalf("token fetches %d after 20 more refused calls, want still 2", n)
	}
}

// Token endpoint down and no token: the call fails Unavailable within
// its deadline, and never reaches the server.
func TestTokenEndpointDown(t *testing.T) {
	iss, v, source := memSetup(t)
	s := serve(t, v, nil)
	src := source("svc-down", "read")
	iss.FailTokens.Store(true)
	for name, opts := range map[string][]grpc.DialOption{
		"interceptors": interceptors(src, authgrpc.WithInsecure()),
		"per-rpc":      {grpc.WithPerRPCCredentials(authgrpc.PerRPCCredentials(src, authgrpc.WithInsecure()))},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.dial(t, opts...).Check(ctx, &healthpb.HealthCheckRequest{Service: "up"})
		ctxErr := ctx.Err()
		cancel()
		wantCode(t, name, err, codes.Unavailable, "token endpoint")
		if ctxErr != nil {
			t.Fatalf("%s: failed only at the deadline", name)
		}
	}
	if s.reached.Load() != 0 {
		t.Fatal("a call without a token reached the server")
	}
}

// The authorization server unreachable: fail closed with Unavailable.
func TestVerifierUnavailable(t *testing.T) {
	iss := auth.NewMemoryIssuer()
	iss.AddClient("c", "c-secret")
	tok := iss.MintOpaque(auth.Token{Subject: "s"})
	iv := auth.NewIntrospectionVerifier(iss.URL(), auth.WithClient("c", "c-secret"))
	defer iv.Close()
	iss.Close()
	s := serve(t, iv, nil)
	_, err := s.dial(t).Check(metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Bearer "+tok), &healthpb.HealthCheckRequest{Service: "up"})
	wantCode(t, "introspection down", err, codes.Unavailable, "unavailable")
	if s.reached.Load() != 0 {
		t.Fatal("reached the handler")
	}
}

// Against the real oidc-provider: client-credentials JWTs through JWKS
// and an opaque token through introspection; the limited client is
// denied by policy.
func TestRealProvider(t *testing.T) {
	op := testenv.OAuth2(t)
	ctx := ctxT(t)
	jv := auth.NewJWTVerifier(op.Issuer, auth.WithAudience(op.Resource), auth.WithTokenType("at+jwt"))
	defer jv.Close()
	iv := auth.NewIntrospectionVerifier(op.Issuer, auth.WithClient(op.ClientID, op.ClientSecret))
	defer iv.Close()
	p, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Method: check, Scopes: []string{"write"}},
		{Method: watch, Scopes: []string{"read"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, auth.Chain(jv, iv), p)
	tokenURL := op.Issuer + "/token"
	full := auth.NewTokenSource(tokenURL, op.ClientID, op.ClientSecret, []string{"read", "write"}, auth.WithAudience(op.Resource))
	defer full.Close()
	limited := auth.NewTokenSource(tokenURL, op.LimitedClientID, op.LimitedClientSecret, []string{"read"}, auth.WithAudience(op.Resource))
	defer limited.Close()
	opaque := auth.NewTokenSource(tokenURL, op.ClientID, op.ClientSecret, []string{"read", "write"})
	defer opaque.Close()

	if _, err := s.dial(t, interceptors(full, authgrpc.WithInsecure())...).Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatalf("full client: %v", err)
	}
	if c := s.lastClaims(); c == nil || c.ClientID != op.ClientID || c.Issuer != op.Issuer {
		t.Fatalf("claims %+v", c)
	}
	lc := s.dial(t, interceptors(limited, authgrpc.WithInsecure())...)
	_, err = lc.Check(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	wantCode(t, "limited client", err, codes.PermissionDenied, `scope "write" missing`)
	w, err := lc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "up"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatalf("limited client may read: %v", err)
	}
	if _, err := s.dial(t, grpc.WithPerRPCCredentials(authgrpc.PerRPCCredentials(opaque, authgrpc.WithInsecure()))).Check(ctx, &healthpb.HealthCheckRequest{Service: "up"}); err != nil {
		t.Fatalf("opaque token: %v", err)
	}
	if iv.Introspections() != 1 {
		t.Fatalf("introspections %d, want 1", iv.Introspections())
	}
}
