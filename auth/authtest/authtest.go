// Package authtest is the conformance suite of auth.Verifier: every
// verifier (the JWT verifier and introspection against the memory issuer
// and against a real OpenID provider, and their Chain) runs Run and must
// accept a valid token and reject, each for a reason the caller can test
// with errors.Is: expired and not-yet-valid tokens, a wrong audience or
// issuer, alg none, HS256 signed with the issuer's RSA public key, an
// unknown kid, another key's signature under the issuer's kid, truncated,
// oversized and garbage tokens, and a revoked token (for verifiers that
// can see revocation).
//
// The suite needs only real tokens from the issuer: it forges the bad ones
// from a good one (its claims, the issuer's public JWKS) and moves the
// verifier's clock for the time checks, so it runs against a provider
// that mints only what it decides. Cases that need tokens with chosen
// claims (another issuer) run when the harness can mint.
package authtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/oserr"
)

// Harness describes the verifier under test and its issuer.
type Harness struct {
	// Issuer is the issuer's URL (its JWKS is found by discovery).
	Issuer string
	// Opaque says the verifier hands tokens that are not JWTs to the
	// issuer (introspection, or a Chain ending in it): garbage is then only
	// required to be rejected, whatever reason the issuer gives. Forged
	// JWTs (made when Token returns JWTs) must always be rejected for
	// their own reason.
	Opaque bool
	// Audience is the audience the good tokens carry ("" when they carry
	// none); the suite configures every verifier to require it.
	Audience string
	// New returns a fresh verifier for Issuer configured with opts (the
	// suite passes WithClock and WithAudience), closed at t's end.
	New func(t *testing.T, opts ...auth.Option) auth.Verifier
	// Token returns a new valid token from the issuer (lifetime at least
	// a few minutes, at most a day).
	Token func(t *testing.T) string
	// Revoke, when set, revokes token at the issuer through auth.Revoker,
	// dropping it from the caches of v (made by New in the same t); nil for verifiers that cannot see
	// revocation before expiry (JWTs verified locally).
	Revoke func(t *testing.T, v auth.Verifier, token string) error
	// Mint, when set, returns a token signed by the issuer with t's
	// claims (the memory issuer).
	Mint func(t auth.Token) string
}

const wrongAudience = "https://authtest.wrong-audience.example"

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	withAud := func(opts ...auth.Option) []auth.Option {
		if h.Audience == "" {
			return opts
		}
		return append([]auth.Option{auth.WithAudience(h.Audience)}, opts...)
	}

	t.Run("Valid", func(t *testing.T) {
		v := h.New(t, withAud()...)
		tok := h.Token(t)
		c, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("Verify(valid token) = %v", err)
		}
		if c.Issuer != "" && c.Issuer != h.Issuer {
			t.Errorf("Issuer %q, want %q", c.Issuer, h.Issuer)
		}
		if c.Subject == "" && c.ClientID == "" {
			t.Errorf("claims name neither subject nor client: %+v", c)
		}
		if c.Expiry.IsZero() || !c.Expiry.After(time.Now()) {
			t.Errorf("Expiry %v", c.Expiry)
		}
		if h.Audience != "" && !contains(c.Audience, h.Audience) {
			t.Errorf("Audience %q, want %q in it", c.Audience, h.Audience)
		}
		var raw map[string]any
		if err := c.Decode(&raw); err != nil || len(raw) == 0 {
			t.Errorf("Raw claims %q: %v", c.Raw, err)
		}
		if c2, err := v.Verify(ctx, tok); err != nil || c2.Subject != c.Subject {
			t.Fatalf("second Verify = %+v, %v", c2, err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		v := h.New(t, withAud()...)
		tok := h.Token(t)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for range 32 {
			wg.Go(func() {
				if _, err := v.Verify(ctx, tok); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent Verify: %v", err)
		}
	})

	// The verifier's clock two hours ahead: the token has expired.
	t.Run("Expired", func(t *testing.T) {
		tok := h.Token(t)
		later := func() time.Time { return time.Now().Add(25 * time.Hour) }
		v := h.New(t, withAud(auth.WithClock(later))...)
		rejected(t, v, tok, auth.ErrExpired)
	})

	// The verifier's clock two hours behind: the token is not valid yet
	// (issued, or valid from, in the future).
	t.Run("NotYetValid", func(t *testing.T) {
		tok := h.Token(t)
		earlier := func() time.Time { return time.Now().Add(-2 * time.Hour) }
		v := h.New(t, withAud(auth.WithClock(earlier))...)
		rejected(t, v, tok, auth.ErrNotYetValid)
	})

	t.Run("WrongAudience", func(t *testing.T) {
		v := h.New(t, withAud(auth.WithAudience(wrongAudience))...)
		rejected(t, v, h.Token(t), auth.ErrAudience)
	})

	// A case a harness cannot have is not run (CI allows no skips): an
	// issuer that mints only its own tokens has no wrong-issuer token (the
	// forged cases cover a foreign signer); a verifier that checks JWTs
	// locally cannot see a revocation; opaque tokens leave nothing to forge
	// from (the malformed cases cover them).
	if h.Mint != nil {
		t.Run("WrongIssuer", func(t *testing.T) {
			tok := h.Mint(auth.Token{Subject: "authtest", Issuer: "https://authtest.evil.example", Audience: audList(h.Audience)})
			want := auth.ErrIssuer
			if h.Opaque {
				want = nil
			}
			rejected(t, h.New(t, withAud()...), tok, want)
		})
	}

	if h.Revoke != nil {
		t.Run("Revoked", func(t *testing.T) {
			v := h.New(t, withAud()...)
			tok := h.Token(t)
			if _, err := v.Verify(ctx, tok); err != nil { // cached now, where the verifier caches
				t.Fatalf("before revocation: %v", err)
			}
			if err := h.Revoke(t, v, tok); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			c, err := v.Verify(ctx, tok)
			if err == nil {
				t.Fatalf("revoked token accepted: %+v", c)
			}
			if !errors.Is(err, auth.ErrInactive) && !errors.Is(err, auth.ErrRevoked) {
				t.Fatalf("revoked token: %v, want ErrInactive or ErrRevoked", err)
			}
			checkRejection(t, err)
		})
	}

	t.Run("Malformed", func(t *testing.T) {
		v := h.New(t, withAud()...)
		tok := h.Token(t)
		jwtWant := func(err error) error {
			if h.Opaque {
				return nil
			}
			return err
		}
		cases := []struct {
			name, token string
			want        error // nil: any rejection
		}{
			{"empty", "", auth.ErrMissing},
			{"1 MiB", strings.Repeat("a", 1<<20), auth.ErrMalformed},
			{"garbage", "not.a.token", jwtWant(auth.ErrMalformed)},
			{"binary", "\x00\xff\x01.\x02\x03", jwtWant(auth.ErrMalformed)},
			{"dots", "..", jwtWant(auth.ErrMalformed)},
			{"truncated", tok[:len(tok)-6], nil},
			{"half", tok[:len(tok)/2], nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { rejected(t, v, c.token, c.want) })
		}
	})

	forgeFrom := h.Token(t)
	f := newForger(t, ctx, h.Issuer, forgeFrom)
	if f == nil {
		return // opaque tokens: nothing to forge from
	}
	t.Run("Forged", func(t *testing.T) {
		tok := forgeFrom
		v := h.New(t, withAud()...)
		cases := []struct {
			name, token string
			want        error
		}{
			{"alg none", f.none(), auth.ErrAlgorithm},
			{"alg none, no signature part", strings.TrimSuffix(f.none(), "."), nil},
			{"HS256 with the RSA public key (DER) as secret", f.hmac(t, f.der), auth.ErrAlgorithm},
			{"HS256 with the RSA public key (PEM) as secret", f.hmac(t, f.pem), auth.ErrAlgorithm},
			{"HS256 with the JWK as secret", f.hmac(t, f.jwk), auth.ErrAlgorithm},
			{"unknown kid", f.sign(t, "authtest-unknown-kid", nil), auth.ErrUnknownKey},
			{"another key under the issuer's kid", f.sign(t, f.kid, nil), auth.ErrSignature},
			{"payload swapped", f.swapped(), auth.ErrSignature},
			{"claims of another subject, another key", f.sign(t, f.kid, map[string]any{"sub": "root", "scope": "admin"}), auth.ErrSignature},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { rejected(t, v, c.token, c.want) })
		}
		// The forged tokens failed for their own reason only.
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("the good token after the forged ones: %v", err)
		}
	})
}

func audList(a string) []string {
	if a == "" {
		return nil
	}
	return []string{a}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// rejected verifies token and requires a rejection: ErrInvalidToken, class
// Unauthenticated, never ErrUnavailable, no claims, and want when set.
func rejected(t *testing.T, v auth.Verifier, token string, want error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := v.Verify(ctx, token)
	if err == nil {
		t.Fatalf("accepted: %+v", c)
	}
	if c != nil {
		t.Fatalf("claims returned with error %v", err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("Verify = %v, want %v", err, want)
	}
	checkRejection(t, err)
}

func checkRejection(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrInvalidToken) || oserr.Code(err) != oserr.Unauthenticated {
		t.Fatalf("%v: not an ErrInvalidToken of class Unauthenticated (class %v)", err, oserr.Code(err))
	}
	if errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("%v: a rejection must not also be ErrUnavailable", err)
	}
	if auth.Reason(err) == "" {
		t.Fatalf("%v: no reason", err)
	}
}

// forger makes bad tokens out of a good JWT and the issuer's public keys.
type forger struct {
	header, payload, sig string
	claims               map[string]any
	kid                  string
	alg                  string
	der, pem, jwk        []byte // the issuer's RSA public key, three ways
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// newForger returns nil when tok is not a JWT.
func newForger(t *testing.T, ctx context.Context, issuer, tok string) *forger {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	f := &forger{header: parts[0], payload: parts[1], sig: parts[2]}
	var hdr struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(pb, &f.claims) != nil {
		return nil
	}
	f.kid, f.alg = hdr.Kid, hdr.Alg
	client := &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	md, err := auth.Discover(ctx, client, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, md.JWKSURI, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || (f.kid != "" && k.KeyID != f.kid) {
			continue
		}
		f.der, _ = x509.MarshalPKIXPublicKey(pub)
		f.pem = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: f.der})
		f.jwk, _ = k.MarshalJSON()
		break
	}
	if f.der == nil {
		t.Fatalf("no RSA key of kid %q in the issuer's JWKS", f.kid)
	}
	return f
}

func (f *forger) headerJSON(alg string) []byte {
	h := map[string]any{"alg": alg, "typ": "at+jwt"}
	if f.kid != "" {
		h["kid"] = f.kid
	}
	b, _ := json.Marshal(h)
	return b
}

func (f *forger) none() string { return b64(f.headerJSON("none")) + "." + f.payload + "." }

func (f *forger) swapped() string {
	c := map[string]any{}
	for k, v := range f.claims {
		c[k] = v
	}
	c["sub"], c["scope"] = "root", "admin"
	b, _ := json.Marshal(c)
	return f.header + "." + b64(b) + "." + f.sig
}

// hmac signs the good token's claims with HS256 and secret, under the
// issuer's kid: a verifier that let the token pick the algorithm would
// check it with the public key as an HMAC secret.
func (f *forger) hmac(t *testing.T, secret []byte) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	if f.kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), f.kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f.signWith(t, s, nil)
}

// sign signs the good token's claims (with extra ones) by a new RSA key
// under kid.
func (f *forger) sign(t *testing.T, kid string, extra map[string]any) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return f.signWith(t, s, extra)
}

func (f *forger) signWith(t *testing.T, s jose.Signer, extra map[string]any) string {
	t.Helper()
	c := map[string]any{}
	for k, v := range f.claims {
		c[k] = v
	}
	for k, v := range extra {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
