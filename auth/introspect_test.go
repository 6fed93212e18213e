package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/internal/fakeclock"
)

func newIntro(t testing.TB, opts ...auth.Option) (*auth.MemoryIssuer, *auth.IntrospectionVerifier) {
	t.Helper()
	iss := auth.NewMemoryIssuer()
	t.Cleanup(iss.Close)
	iss.AddClient("rs", "rs-secret")
	v := auth.NewIntrospectionVerifier(iss.URL(), append([]auth.Option{auth.WithClient("rs", "rs-secret")}, opts...)...)
	t.Cleanup(func() { v.Shutdown(context.Background()) })
	return iss, v
}

func TestIntrospection(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, v := newIntro(t, auth.WithClock(clk.Now), auth.WithCache(100, time.Minute))
	ctx := context.Background()
	tok := iss.MintOpaque(auth.Token{Subject: "u1", ClientID: "c1", Scopes: []string{"read"}, Expiry: clk.Now().Add(time.Hour)})
	c, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "u1" || c.ClientID != "c1" || !c.HasScope("read") || c.Issuer != iss.URL() {
		t.Fatalf("claims %+v", c)
	}
	for range 10 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Introspections.Load(); n != 1 {
		t.Fatalf("introspections at the issuer = %d, want 1 (cached)", n)
	}
	clk.Advance(2 * time.Minute) // past the cache's max age
	if _, err := v.Verify(ctx, tok); err != nil || iss.Introspections.Load() != 2 {
		t.Fatalf("after max age: %v, %d calls", err, iss.Introspections.Load())
	}

	// Revoked at the issuer and forgotten locally: rejected at once.
	iss.Revoke(tok)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("still cached before Forget: %v", err)
	}
	v.Forget(tok)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrInactive) || !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := v.Verify(ctx, "unknown-opaque"); !errors.Is(err, auth.ErrInactive) {
		t.Fatalf("active:false: %v", err)
	}
}

func TestIntrospectionCacheBoundedByExpiry(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, v := newIntro(t, auth.WithClock(clk.Now), auth.WithCache(2, time.Hour), auth.WithSkew(0))
	ctx := context.Background()
	short := iss.MintOpaque(auth.Token{IssuedAt: clk.Now(), Expiry: clk.Now().Add(10 * time.Second)})
	if _, err := v.Verify(ctx, short); err != nil {
		t.Fatal(err)
	}
	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, short); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("expired token served from cache: %v", err)
	}
	for range 5 {
		v.Verify(ctx, iss.MintOpaque(auth.Token{}))
	}
	if n := v.CacheLen(); n > 2 {
		t.Fatalf("cache holds %d, bound 2", n)
	}
}

// 1,000 concurrent verifications of one new token: one introspection,
// counted at the issuer.
func TestIntrospectionCollapsed(t *testing.T) {
	iss, v := newIntro(t)
	tok := iss.MintOpaque(auth.Token{Subject: "u"})
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 1000)
	for range 1000 {
		wg.Go(func() {
			<-start
			_, err := v.Verify(context.Background(), tok)
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Introspections.Load(); n != 1 {
		t.Fatalf("1000 concurrent verifications: %d introspections at the issuer, want 1", n)
	}
}

func TestIntrospectionDownFailsClosed(t *testing.T) {
	iss, v := newIntro(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.MintOpaque(auth.Token{})); err != nil { // discovery done
		t.Fatal(err)
	}
	tok := iss.MintOpaque(auth.Token{})
	iss.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("introspection down: %v, want ErrUnavailable", err)
	}
	if err := v.Check(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Check: %v", err)
	}
}

func TestChain(t *testing.T) {
	iss, iv := newIntro(t)
	jv := auth.NewJWTVerifier(iss.URL())
	v := auth.Chain(jv, iv)
	ctx := context.Background()
	if c, err := v.Verify(ctx, iss.Mint(auth.Token{Subject: "jwt"})); err != nil || c.Subject != "jwt" {
		t.Fatalf("jwt: %v %v", c, err)
	}
	if c, err := v.Verify(ctx, iss.MintOpaque(auth.Token{Subject: "opaque"})); err != nil || c.Subject != "opaque" {
		t.Fatalf("opaque: %v %v", c, err)
	}
	before := iss.Introspections.Load()
	if _, err := v.Verify(ctx, iss.Mint(auth.Token{Expiry: time.Now().Add(-time.Hour)})); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("expired jwt: %v", err)
	}
	if iss.Introspections.Load() != before {
		t.Fatal("a rejected JWT was sent to introspection")
	}
}

func BenchmarkIntrospectionCachedHit(b *testing.B) {
	iss, v := newIntro(b)
	tok := iss.MintOpaque(auth.Token{Subject: "u"})
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIntrospectionCachedHitAllocs(t *testing.T) {
	iss, v := newIntro(t)
	tok := iss.MintOpaque(auth.Token{Subject: "u"})
	ctx := context.Background()
	v.Verify(ctx, tok)
	if n := testing.AllocsPerRun(1000, func() { v.Verify(ctx, tok) }); n != 0 {
		t.Fatalf("cached hit allocates %v", n)
	}
}

func TestRevoker(t *testing.T) {
	iss, v := newIntro(t)
	ctx := context.Background()
	tok := iss.MintOpaque(auth.Token{Subject: "held"})
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	r := auth.NewRevoker(iss.URL(), []*auth.IntrospectionVerifier{v}, auth.WithClient("rs", "rs-secret"))
	if err := r.Revoke(ctx, tok, "access_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrInactive) {
		t.Fatalf("revoked token: %v", err)
	}
	bad := auth.NewRevoker(iss.URL(), nil, auth.WithClient("rs", "wrong"))
	if err := bad.Revoke(ctx, tok, ""); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("wrong secret: %v", err)
	}
}
