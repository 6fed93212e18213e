package oauth2auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authtest"
	"github.com/microos/go-os/auth/oauth2auth"
	"github.com/microos/go-os/internal/testenv"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Against the real oidc-provider: client credentials, a JWT through JWKS,
// an opaque token introspected and revoked, the limited client denied.
func TestRealProvider(t *testing.T) {
	srv := testenv.OAuth2(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := oauth2auth.New(ctx, oauth2auth.Config{Issuer: srv.Issuer, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, Audience: srv.Resource, Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tok, err := a.Source.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Verifier.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("JWT from the provider: %v", err)
	}
	if c.ClientID != srv.ClientID || !c.HasScope("write") || a.JWT.Stats().Refreshes != 1 || a.Introspection.Introspections() != 0 {
		t.Fatalf("claims %+v, stats %+v", c, a.JWT.Stats())
	}
	if err := a.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}

	// Opaque token (no resource): introspected, cached, revoked.
	opaque := auth.NewTokenSource(srv.Issuer+"/token", srv.ClientID, srv.ClientSecret, []string{"read"})
	defer opaque.Close()
	ot, err := opaque.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := a.Verifier.Verify(ctx, ot.AccessToken)
	if err != nil || oc.ClientID != srv.ClientID || !oc.HasScope("read") {
		t.Fatalf("opaque: %+v %v", oc, err)
	}
	a.Verifier.Verify(ctx, ot.AccessToken)
	if n := a.Introspection.Introspections(); n != 1 {
		t.Fatalf("introspections %d, want 1 (cached)", n)
	}
	if err := a.Revoker.Revoke(ctx, ot.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verifier.Verify(ctx, ot.AccessToken); !errors.Is(err, auth.ErrInactive) {
		t.Fatalf("revoked: %v", err)
	}

	// The limited client: a valid token, denied write by policy.
	lim := auth.NewTokenSource(srv.Issuer+"/token", srv.LimitedClientID, srv.LimitedClientSecret, []string{"read"}, auth.WithAudience(srv.Resource))
	defer lim.Close()
	lt, err := lim.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := a.Verifier.Verify(ctx, lt.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{{Method: "POST", Scopes: []string{"write"}}, {Method: "GET", Scopes: []string{"read"}}}})
	if d := p.Decide(auth.Request{Method: "POST", Route: "/orders"}, lc); d.Allow {
		t.Fatalf("limited client allowed to write: %+v", d)
	}
	if d := p.Decide(auth.Request{Method: "GET", Route: "/orders"}, lc); !d.Allow {
		t.Fatalf("limited client denied read: %+v", d)
	}
}

// providerHarness runs the conformance suite against the real provider:
// kind jwt (JWTs through JWKS), introspection (opaque tokens) or chain
// (opaque tokens through the JWT verifier, then introspection).
func providerHarness(t *testing.T, kind string) authtest.Harness {
	srv := testenv.OAuth2(t)
	var mu sync.Mutex
	introspectors := map[*testing.T]*auth.IntrospectionVerifier{} // by the subtest that made it
	cl := auth.WithClient(srv.ClientID, srv.ClientSecret)
	h := authtest.Harness{
		Issuer: srv.Issuer,
		Opaque: kind != "jwt",
		Token: func(t *testing.T) string {
			var opts []auth.Option
			if kind == "jwt" {
				opts = append(opts, auth.WithAudience(srv.Resource))
			}
			src := auth.NewTokenSource(srv.Issuer+"/token", srv.ClientID, srv.ClientSecret, []string{"read"}, opts...)
			defer src.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := src.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken
		},
		New: func(t *testing.T, opts ...auth.Option) auth.Verifier {
			jv := auth.NewJWTVerifier(srv.Issuer, append([]auth.Option{auth.WithTokenType("at+jwt")}, opts...)...)
			iv := auth.NewIntrospectionVerifier(srv.Issuer, append([]auth.Option{cl}, opts...)...)
			t.Cleanup(func() { jv.Close(); iv.Close() })
			mu.Lock()
			introspectors[t] = iv
			mu.Unlock()
			switch kind {
			case "jwt":
				return jv
			case "introspection":
				return iv
			}
			return auth.Chain(jv, iv)
		},
	}
	if kind == "jwt" {
		h.Audience = srv.Resource
	} else {
		h.Revoke = func(t *testing.T, v auth.Verifier, token string) error {
			mu.Lock()
			iv := introspectors[t]
			mu.Unlock()
			r := auth.NewRevoker(srv.Issuer, []*auth.IntrospectionVerifier{iv}, cl)
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return r.Revoke(ctx, token, "access_token")
		}
	}
	return h
}

func TestConformanceProviderJWT(t *testing.T) { authtest.Run(t, providerHarness(t, "jwt")) }
func TestConformanceProviderIntrospection(t *testing.T) {
	authtest.Run(t, providerHarness(t, "introspection"))
}
func TestConformanceProviderChain(t *testing.T) { authtest.Run(t, providerHarness(t, "chain")) }

func TestOpen(t *testing.T) {
	srv := testenv.OAuth2(t)
	t.Setenv("OAUTH2AUTH_TEST_SECRET", srv.ClientSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := auth.Open(ctx, srv.Issuer+"?client_id="+srv.ClientID+"&client_secret_env=OAUTH2AUTH_TEST_SECRET&scope=read+write&audience="+srv.Resource)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tok, err := a.Source.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := a.Verifier.Verify(ctx, tok.AccessToken); err != nil || c.ClientID != srv.ClientID || !c.HasScope("write") {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if err := a.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Open(ctx, srv.Issuer+"?client_id="+srv.ClientID+"&client_secret_env=OAUTH2AUTH_TEST_SECRET&realm=x"); err == nil {
		t.Fatal("unknown parameter accepted")
	}
}
