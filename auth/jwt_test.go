package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/oserr"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const aud = "https://api.test"

func newJWT(t *testing.T, opts ...auth.Option) (*auth.MemoryIssuer, *auth.JWTVerifier) {
	t.Helper()
	iss := auth.NewMemoryIssuer()
	t.Cleanup(iss.Close)
	v := auth.NewJWTVerifier(iss.URL(), append([]auth.Option{auth.WithAudience(aud), auth.WithTokenType("at+jwt")}, opts...)...)
	t.Cleanup(func() { v.Close() })
	return iss, v
}

func TestJWTVerifyGood(t *testing.T) {
	iss, v := newJWT(t)
	tok := iss.Mint(auth.Token{Subject: "svc-a", ClientID: "svc-a", Scopes: []string{"read", "write"}, Audience: []string{aud}})
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "svc-a" || c.ClientID != "svc-a" || !c.HasScope("write") || c.Issuer != iss.URL() || c.Audience[0] != aud {
		t.Fatalf("claims %+v", c)
	}
	var raw struct {
		Scope string `json:"scope"`
	}
	if err := c.Decode(&raw); err != nil || raw.Scope != "read write" {
		t.Fatalf("raw %s: %v", c.Raw, err)
	}
}

// b64 builds a token from raw parts, for the forged cases.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestJWTSecurity(t *testing.T) {
	iss, v := newJWT(t)
	other := auth.NewMemoryIssuer()
	defer other.Close()
	good := auth.Token{Subject: "s", Audience: []string{aud}}
	now := time.Now()

	// HS256 signed with the issuer's RSA public key (DER) as the secret.
	sk := iss.SigningKey()
	pub := sk.Public()
	der, _ := x509.MarshalPKIXPublicKey(pub.Key)
	hs := iss.MintWith(jose.JSONWebKey{Key: der, KeyID: pub.KeyID, Algorithm: string(jose.HS256)}, good)

	// Signed by a foreign key that claims the issuer's kid.
	foreign, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := iss.MintWith(jose.JSONWebKey{Key: foreign, KeyID: pub.KeyID, Algorithm: "RS256"}, good)

	goodTok := iss.Mint(good)
	parts := strings.Split(goodTok, ".")
	none := parts[0][:0] + b64(`{"alg":"none","typ":"at+jwt","kid":"`+pub.KeyID+`"}`) + "." + parts[1] + "."

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", auth.ErrMissing},
		{"alg none", none, auth.ErrAlgorithm},
		{"HS256 with RSA public key as secret", hs, auth.ErrAlgorithm},
		{"kid of another issuer's key", other.Mint(good), auth.ErrUnknownKey},
		{"other key's signature under our kid", forged, auth.ErrSignature},
		{"wrong issuer", iss.Mint(auth.Token{Issuer: "https://evil.test", Audience: []string{aud}}), auth.ErrIssuer},
		{"wrong audience", iss.Mint(auth.Token{Audience: []string{"https://other.test"}}), auth.ErrAudience},
		{"no audience", iss.Mint(auth.Token{}), auth.ErrAudience},
		{"expired", iss.Mint(auth.Token{Audience: []string{aud}, Expiry: now.Add(-time.Minute)}), auth.ErrExpired},
		{"not yet valid", iss.Mint(auth.Token{Audience: []string{aud}, NotBefore: now.Add(time.Hour)}), auth.ErrNotYetValid},
		{"wrong typ", iss.Mint(auth.Token{Audience: []string{aud}, Type: "JWT"}), auth.ErrType},
		{"no typ", iss.Mint(auth.Token{Audience: []string{aud}, Type: "-"}), auth.ErrType},
		{"truncated", goodTok[:len(goodTok)-10], auth.ErrSignature},
		{"truncated header", goodTok[:20], auth.ErrMalformed},
		{"payload swapped", parts[0] + "." + b64(`{"iss":"`+iss.URL()+`","aud":"`+aud+`","exp":9999999999,"sub":"root"}`) + "." + parts[2], auth.ErrSignature},
		{"1 MiB", strings.Repeat("a", 1<<20), auth.ErrMalformed},
		{"garbage", "not.a.token", auth.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), c.token)
			if !errors.Is(err, c.want) || !errors.Is(err, auth.ErrInvalidToken) || oserr.Code(err) != oserr.Unauthenticated {
				t.Fatalf("Verify = %v, %v; want %v (class Unauthenticated, got %v)", got, err, c.want, oserr.Code(err))
			}
			if got != nil {
				t.Fatalf("claims returned with an error")
			}
		})
	}
}

func TestJWTKeyRotation(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, v := newJWT(t, auth.WithClock(clk.Now), auth.WithRefreshInterval(time.Minute))
	ctx := context.Background()
	old := iss.Mint(auth.Token{Audience: []string{aud}})
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	iss.RotateKey(jose.ES256)
	clk.Advance(2 * time.Minute)
	fresh := iss.Mint(auth.Token{Audience: []string{aud}})
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("old key still published: %v", err)
	}
	if got := v.Stats().Refreshes; got != 2 {
		t.Fatalf("refreshes = %d, want 2 (initial + one for the new kid)", got)
	}
}

// A storm of 1,000 tokens with unknown kids costs one JWKS fetch per
// refresh interval, counted at the issuer.
func TestJWTRefreshStorm(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, v := newJWT(t, auth.WithClock(clk.Now), auth.WithRefreshInterval(time.Minute))
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Mint(auth.Token{Audience: []string{aud}})); err != nil {
		t.Fatal(err)
	}
	before := iss.JWKSFetches.Load()
	clk.Advance(2 * time.Minute)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for i := range 1000 {
		tok := iss.MintWith(jose.JSONWebKey{Key: key, KeyID: "unknown-" + string(rune('a'+i%26)) + strings.Repeat("x", i%7), Algorithm: "RS256"}, auth.Token{Audience: []string{aud}})
		if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("token %d: %v", i, err)
		}
		if i == 499 {
			clk.Advance(2 * time.Minute) // one more refresh allowed
		}
	}
	fetches := iss.JWKSFetches.Load() - before
	st := v.Stats()
	t.Logf("1000 unknown kids: %d JWKS fetches at the issuer, %d refused by the rate limit", fetches, st.Limited)
	if fetches != 2 || st.Limited != 998 {
		t.Fatalf("fetches = %d, limited = %d; want 2 and 998", fetches, st.Limited)
	}
}

func TestJWTIssuerDownFailsClosed(t *testing.T) {
	iss, v := newJWT(t)
	tok := iss.Mint(auth.Token{Audience: []string{aud}})
	iss.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, auth.ErrUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify with issuer down = %v, want ErrUnavailable", err)
	}
	if err := v.Check(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("Check = %v", err)
	}
}

func FuzzJWTVerify(f *testing.F) {
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud), auth.WithRefreshInterval(time.Hour))
	good := iss.Mint(auth.Token{Audience: []string{aud}})
	f.Add(good)
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(context.Background(), tok)
		if err == nil {
			// Only the minted token (modulo base64 slack in unused bits) passes.
			if c == nil || len(tok) != len(good) {
				t.Fatalf("accepted %q", tok)
			}
			return
		}
		if c != nil || !(errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrUnavailable)) {
			t.Fatalf("Verify(%q) = %v, %v", tok, c, err)
		}
	})
}

// An issuer that rotates under the same kid: one refresh, then the new
// key verifies.
func TestJWTSameKidRotation(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, v := newJWT(t, auth.WithClock(clk.Now), auth.WithRefreshInterval(time.Minute))
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Mint(auth.Token{Audience: []string{aud}})); err != nil {
		t.Fatal(err)
	}
	kid := iss.SigningKey().KeyID
	nk, _ := rsa.GenerateKey(rand.Reader, 2048)
	iss.ReplaceKey(jose.JSONWebKey{Key: nk, KeyID: kid, Algorithm: "RS256", Use: "sig"})
	tok := iss.Mint(auth.Token{Audience: []string{aud}})
	if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrSignature) {
		t.Fatalf("within the refresh interval: %v, want ErrSignature", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
}

// BenchmarkVerifyTiming compares a good token with bad ones that fail at
// different points: a bad signature costs the same RSA verification as a
// good token (go-jose checks the signature before any claim is read), so
// the claim checks after it are no oracle on the key.
func BenchmarkVerifyTiming(b *testing.B) {
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud))
	good := iss.Mint(auth.Token{Audience: []string{aud}})
	p := strings.Split(good, ".")
	sig := []byte(p[2])
	sig[10] ^= 1
	cases := map[string]string{
		"good":         good,
		"badSignature": p[0] + "." + p[1] + "." + string(sig),
		"wrongIssuer":  iss.Mint(auth.Token{Issuer: "https://evil", Audience: []string{aud}}),
		"expired":      iss.Mint(auth.Token{Audience: []string{aud}, Expiry: time.Now().Add(-time.Hour)}),
	}
	v.Verify(context.Background(), good)
	for _, name := range []string{"good", "badSignature", "wrongIssuer", "expired"} {
		tok := cases[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Verify(context.Background(), tok)
			}
		})
	}
}

func TestJWTRolesAndDecode(t *testing.T) {
	iss, v := newJWT(t)
	for _, roles := range []any{[]string{"finance", "admin"}, "finance admin"} {
		tok := iss.Mint(auth.Token{Subject: "s", Audience: []string{aud}, Extra: map[string]any{"roles": roles, "tenant": "t1"}})
		c, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Roles) != 2 || c.Roles[0] != "finance" || c.Roles[1] != "admin" {
			t.Fatalf("roles %q from %v", c.Roles, roles)
		}
		var extra struct {
			Tenant string `json:"tenant"`
		}
		if err := c.Decode(&extra); err != nil || extra.Tenant != "t1" {
			t.Fatalf("Decode: %+v %v", extra, err)
		}
		p, _ := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{{Roles: []string{"admin"}}}})
		if d := p.Decide(auth.Request{Method: "GET", Route: "/"}, c); !d.Allow {
			t.Fatalf("role admin denied: %+v", d)
		}
	}
}

// A key the issuer withdrew stops verifying once the cached keys are
// older than WithKeyMaxAge, even though no token names an unknown kid;
// until the background fetch lands, the cached keys keep verifying.
func TestJWTKeysRefreshedByAge(t *testing.T) {
	clk := fakeclock.New(time.Now())
	iss, v := newJWT(t, auth.WithClock(clk.Now), auth.WithKeyMaxAge(time.Hour))
	ctx := context.Background()
	old := iss.Mint(auth.Token{Audience: []string{aud}, Expiry: clk.Now().Add(3 * time.Hour)})
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	iss.RotateKey(jose.RS256)
	iss.DropOldKeys() // the old key is withdrawn
	clk.Advance(30 * time.Minute)
	if _, err := v.Verify(ctx, old); err != nil || iss.JWKSFetches.Load() != 1 {
		t.Fatalf("within the max age: %v, %d fetches", err, iss.JWKSFetches.Load())
	}
	clk.Advance(31 * time.Minute)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("stale keys are used while the fetch runs: %v", err)
	}
	waitFor(t, "the withdrawn key refused after the background JWKS fetch", func() bool {
		_, err := v.Verify(ctx, old)
		return errors.Is(err, auth.ErrUnknownKey)
	})
	if n := iss.JWKSFetches.Load(); n != 2 {
		t.Fatalf("JWKS fetches %d, want 2", n)
	}
}
