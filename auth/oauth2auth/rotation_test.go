package oauth2auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/internal/testenv"
)

// countingProxy fronts a provider of the test's own and counts the JWKS
// fetches that reach it: the issuer URL is the proxy's, so every call of
// the verifier goes through it.
type countingProxy struct {
	srv        *httptest.Server
	target     atomic.Pointer[url.URL]
	jwks       atomic.Int64
	introspect atomic.Int64
}

func newCountingProxy(t *testing.T) *countingProxy {
	p := &countingProxy{}
	// A transport of its own, whose connections to the provider end with
	// the test (goleak).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/jwks"):
			p.jwks.Add(1)
		case strings.HasSuffix(r.URL.Path, "/introspection"), strings.HasSuffix(r.URL.Path, "/introspect"):
			p.introspect.Add(1)
		}
		rp := httputil.NewSingleHostReverseProxy(p.target.Load())
		rp.Transport = tr
		rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// startProvider starts a provider of the test's own behind a counting proxy.
func startProvider(t *testing.T, kid string) (*testenv.OAuth2Proc, *countingProxy) {
	px := newCountingProxy(t)
	proc := testenv.StartOAuth2(t, px.srv.URL, kid)
	px.target.Store(&url.URL{Scheme: "http", Host: proc.Addr})
	return proc, px
}

func jwtFrom(t *testing.T, ctx context.Context, issuer string) string {
	t.Helper()
	srv := testenv.OAuth2(t) // the clients are the shared provider's
	src := auth.NewTokenSource(issuer+"/token", srv.ClientID, srv.ClientSecret, []string{"read"}, auth.WithAudience(srv.Resource))
	defer src.Close()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(b, &h)
	return h.Kid
}

// Key rotation on the real provider: restarted with a new key under a new
// kid, new tokens verify after one JWKS fetch, refetches on unknown kids
// are rate-limited (counted at the provider), old tokens are refused once
// their key left the JWKS. Restarted with a new key under the same kid,
// the verifier fetches again on the failed signature.
func TestKeyRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := testenv.OAuth2(t)
	proc, px := startProvider(t, "rot-1")
	clk := fakeclock.New(time.Now())
	v := auth.NewJWTVerifier(proc.Issuer, auth.WithAudience(srv.Resource), auth.WithClock(clk.Now), auth.WithRefreshInterval(10*time.Second))
	defer v.Close()

	a := jwtFrom(t, ctx, proc.Issuer)
	if kidOf(t, a) != "rot-1" {
		t.Fatalf("kid %q, want rot-1", kidOf(t, a))
	}
	if _, err := v.Verify(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n := px.jwks.Load(); n != 1 {
		t.Fatalf("JWKS fetches %d, want 1", n)
	}

	proc.Restart("rot-2")
	b := jwtFrom(t, ctx, proc.Issuer)
	if kidOf(t, b) != "rot-2" {
		t.Fatalf("kid %q after rotation, want rot-2", kidOf(t, b))
	}
	// Within the refresh interval of the last fetch: the unknown kid
	// does not reach the provider.
	if _, err := v.Verify(ctx, b); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("new kid within the refresh interval: %v, want ErrUnknownKey", err)
	}
	if n := px.jwks.Load(); n != 1 {
		t.Fatalf("JWKS fetches %d within the refresh interval, want 1", n)
	}
	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, b); err != nil {
		t.Fatalf("new key after the refresh interval: %v", err)
	}
	if n := px.jwks.Load(); n != 2 {
		t.Fatalf("JWKS fetches %d, want 2 (one refresh)", n)
	}
	if _, err := v.Verify(ctx, a); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("token of the retired key: %v, want ErrUnknownKey", err)
	}

	// A storm of 1,000 tokens with made-up kids, twice, one refresh
	// interval apart: at most one fetch each time.
	storm := forgeUnknownKids(t, b, 1000)
	for round := range 2 {
		clk.Advance(11 * time.Second)
		before := px.jwks.Load()
		var wg sync.WaitGroup
		var accepted atomic.Int64
		for i := range storm {
			wg.Go(func() {
				if _, err := v.Verify(ctx, storm[i]); !errors.Is(err, auth.ErrUnknownKey) {
					accepted.Add(1)
				}
			})
		}
		wg.Wait()
		if accepted.Load() != 0 {
			t.Fatalf("round %d: %d storm tokens not refused as unknown keys", round, accepted.Load())
		}
		if n := px.jwks.Load() - before; n != 1 {
			t.Fatalf("round %d: %d JWKS fetches for 1,000 unknown kids, want 1", round, n)
		}
	}
	t.Logf("storm: %+v", v.Stats())

	// The script's default: a new key under the same kid on restart.
	proc.Restart("rot-2")
	c := jwtFrom(t, ctx, proc.Issuer)
	clk.Advance(11 * time.Second)
	before := px.jwks.Load()
	if _, err := v.Verify(ctx, c); err != nil {
		t.Fatalf("new key under the same kid: %v", err)
	}
	if n := px.jwks.Load() - before; n != 1 {
		t.Fatalf("%d JWKS fetches for a new key under a known kid, want 1", n)
	}
	if _, err := v.Verify(ctx, b); !errors.Is(err, auth.ErrSignature) {
		t.Fatalf("token of the replaced key: %v, want ErrSignature", err)
	}
}

// forgeUnknownKids signs tok's claims with a key of the test under n
// made-up kids.
func forgeUnknownKids(t *testing.T, tok string, n int) []string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: fmt.Sprintf("storm-%d", i)}}, (&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out[i], _ = obj.CompactSerialize()
	}
	return out
}

// The provider down: cached keys keep verifying; an unknown kid cannot be
// fetched and is refused, and Check says the JWKS is unavailable; the
// token source keeps its last token until it expires, then callers get
// ErrUnavailable before their deadline; introspection fails closed; all
// recover when the provider is back.
func TestProviderDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := testenv.OAuth2(t)
	proc, _ := startProvider(t, "down-1")
	v := auth.NewJWTVerifier(proc.Issuer, auth.WithAudience(srv.Resource), auth.WithRefreshInterval(0))
	defer v.Close()
	iv := auth.NewIntrospectionVerifier(proc.Issuer, auth.WithClient(srv.ClientID, srv.ClientSecret))
	defer iv.Close()
	srcClock := fakeclock.New(time.Now())
	src := auth.NewTokenSource(proc.Issuer+"/token", srv.ClientID, srv.ClientSecret, []string{"read"}, auth.WithAudience(srv.Resource), auth.WithClock(srcClock.Now))
	defer src.Close()
	opaque := auth.NewTokenSource(proc.Issuer+"/token", srv.ClientID, srv.ClientSecret, []string{"read"})
	defer opaque.Close()

	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	ot, err := opaque.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}

	proc.Stop()

	if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
		t.Fatalf("cached key while the provider is down: %v", err)
	}
	if _, err := v.Verify(ctx, forgeUnknownKids(t, tok.AccessToken, 1)[0]); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("unknown kid while down: %v, want ErrUnknownKey", err)
	}
	if err := v.Check(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("JWT Check while down: %v, want ErrUnavailable", err)
	}
	if _, err := iv.Verify(ctx, ot.AccessToken); !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("introspection while down: %v, want ErrUnavailable only (fail closed)", err)
	}

	// Due for refresh (past 80% of the hour), the endpoint down: the last
	// valid token, every time.
	srcClock.Advance(50 * time.Minute)
	for range 3 {
		got, err := src.Token(ctx)
		if err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("last valid token not used while down: %v", err)
		}
	}
	// Expired: a clear error before the caller's deadline.
	srcClock.Advance(11 * time.Minute)
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = src.Token(dctx)
	early := dctx.Err() == nil
	dcancel()
	if !errors.Is(err, auth.ErrUnavailable) || !early {
		t.Fatalf("expired, provider down: %v (before the deadline: %v), want ErrUnavailable before it", err, early)
	}
	t.Logf("token source, provider down: %v", err)

	proc.Start("down-1")
	srcClock.Advance(3 * time.Second) // past the retry backoff
	got, err := src.Token(ctx)
	if err != nil || got.AccessToken == tok.AccessToken {
		t.Fatalf("after the provider is back: %v", err)
	}
	// A new process, a new key under the same kid: one refetch.
	if _, err := v.Verify(ctx, got.AccessToken); err != nil {
		t.Fatalf("verify after restart: %v", err)
	}
	if err := v.Check(ctx); err != nil {
		t.Fatalf("JWT Check after recovery: %v", err)
	}
}

// A token endpoint that accepts connections and never answers: the
// caller's deadline bounds Token.
func TestTokenEndpointHung(t *testing.T) {
	addr := testenv.Hung(t)
	src := auth.NewTokenSource("http://"+addr+"/token", "c", "s", nil)
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := src.Token(ctx)
	if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung token endpoint: %v, want ErrUnavailable wrapping DeadlineExceeded", err)
	}
}

// 1,000 concurrent verifications of one new opaque token: exactly one
// introspection reaches the real provider (counted in front of it).
func TestIntrospectionCollapsedAtProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := testenv.OAuth2(t)
	proc, px := startProvider(t, "")
	iv := auth.NewIntrospectionVerifier(proc.Issuer, auth.WithClient(srv.ClientID, srv.ClientSecret))
	defer iv.Close()
	src := auth.NewTokenSource(proc.Issuer+"/token", srv.ClientID, srv.ClientSecret, []string{"read"})
	defer src.Close()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := make(chan struct{})
	for range 1000 {
		wg.Go(func() {
			<-start
			if _, err := iv.Verify(ctx, tok.AccessToken); err != nil {
				failed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d verifications failed", failed.Load())
	}
	if n := px.introspect.Load(); n != 1 {
		t.Fatalf("%d introspection calls reached the provider for 1,000 concurrent verifications, want 1", n)
	}
}
