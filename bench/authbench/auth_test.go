// Package authbench compares auth's JWT verification with the library it
// is built on (go-jose v4, used raw) and with github.com/golang-jwt/jwt/v5,
// on the same token with the same checks: signature (allowed algorithm
// only), issuer, audience, expiry with 30s of leeway; keys already at hand
// on every side (auth's JWKS cache warm).
package authbench

import (
	"context"
	"crypto"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/bench/internal/compare"
)

const aud = "https://bench.test"

type fixture struct {
	iss   *auth.MemoryIssuer
	v     *auth.JWTVerifier
	tok   string
	pub   crypto.PublicKey
	alg   jose.SignatureAlgorithm
	issID string
}

func newFixture(t testing.TB, alg jose.SignatureAlgorithm) *fixture {
	iss := auth.NewMemoryIssuer()
	t.Cleanup(iss.Close)
	iss.RotateKey(alg)
	v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud))
	t.Cleanup(func() { v.Close() })
	sk := iss.SigningKey()
	f := &fixture{iss: iss, v: v, alg: alg, issID: iss.URL(),
		tok: iss.Mint(auth.Token{Subject: "svc", Scopes: []string{"read"}, Audience: []string{aud}}),
		pub: sk.Public().Key}
	if _, err := v.Verify(context.Background(), f.tok); err != nil { // warm the JWKS cache
		t.Fatal(err)
	}
	// Every side accepts the token and refuses a bad one, so that the
	// timings are of the same checks.
	if err := f.jose(f.tok); err != nil {
		t.Fatalf("go-jose: %v", err)
	}
	if err := f.golangJWT(f.tok); err != nil {
		t.Fatalf("golang-jwt: %v", err)
	}
	bad := iss.Mint(auth.Token{Subject: "svc", Audience: []string{"https://other.test"}})
	if _, err := v.Verify(context.Background(), bad); err == nil || f.jose(bad) == nil || f.golangJWT(bad) == nil {
		t.Fatal("a side accepts a token of another audience")
	}
	return f
}

func (f *fixture) jose(tok string) error {
	t, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{f.alg})
	if err != nil {
		return err
	}
	var c josejwt.Claims
	if err := t.Claims(f.pub, &c); err != nil {
		return err
	}
	return c.ValidateWithLeeway(josejwt.Expected{Issuer: f.issID, AnyAudience: josejwt.Audience{aud}, Time: time.Now()}, 30*time.Second)
}

func (f *fixture) golangJWT(tok string) error {
	_, err := gjwt.Parse(tok, func(*gjwt.Token) (any, error) { return f.pub, nil },
		gjwt.WithValidMethods([]string{string(f.alg)}), gjwt.WithIssuer(f.issID), gjwt.WithAudience(aud),
		gjwt.WithExpirationRequired(), gjwt.WithLeeway(30*time.Second))
	return err
}

func TestCompareVerify(t *testing.T) {
	// The signature check is most of the time and this machine's load
	// varies: more, shorter rounds (fastest counts) than the default.
	defer func(r int) { compare.Rounds = r }(compare.Rounds)
	compare.Rounds = 7
	ctx := context.Background()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		f := newFixture(t, alg)
		ours := func(b *testing.B) {
			for b.Loop() {
				if _, err := f.v.Verify(ctx, f.tok); err != nil {
					b.Fatal(err)
				}
			}
		}
		compare.Run(t,
			compare.Case{
				Name: "auth " + string(alg) + " verify vs go-jose raw",
				Ours: ours,
				Peer: func(b *testing.B) {
					for b.Loop() {
						if err := f.jose(f.tok); err != nil {
							b.Fatal(err)
						}
					}
				},
				Goal: 1.1,
			},
			compare.Case{
				Name: "auth " + string(alg) + " verify vs golang-jwt/v5",
				Ours: ours,
				Peer: func(b *testing.B) {
					for b.Loop() {
						if err := f.golangJWT(f.tok); err != nil {
							b.Fatal(err)
						}
					}
				},
			},
		)
	}
}

// TestPairedRatio measures the same ratios by alternating short batches
// of ours and go-jose's (200 verifications each) and taking the median of
// the batch ratios: load that comes and goes on a shared machine then
// lands on both sides of most pairs, where compare's fastest-of-N still
// reflects whichever side was luckier.
func TestPairedRatio(t *testing.T) {
	pairs, batch := 41, 200
	if testing.Short() {
		pairs, batch = 3, 20
	}
	ctx := context.Background()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		f := newFixture(t, alg)
		sides := map[string]func(){
			"go-jose raw": func() {
				if err := f.jose(f.tok); err != nil {
					t.Fatal(err)
				}
			},
			"golang-jwt/v5": func() {
				if err := f.golangJWT(f.tok); err != nil {
					t.Fatal(err)
				}
			},
		}
		for _, peerName := range []string{"go-jose raw", "golang-jwt/v5"} {
			peer := sides[peerName]
			ratios := make([]float64, pairs)
			for i := range ratios {
				start := time.Now()
				for range batch {
					if _, err := f.v.Verify(ctx, f.tok); err != nil {
						t.Fatal(err)
					}
				}
				ours := time.Since(start)
				start = time.Now()
				for range batch {
					peer()
				}
				ratios[i] = float64(ours) / float64(time.Since(start))
			}
			slices.Sort(ratios)
			t.Logf("auth %s verify vs %s: median ratio %.3f over %d paired batches (quartiles %.3f–%.3f)",
				alg, peerName, ratios[len(ratios)/2], pairs, ratios[len(ratios)/4], ratios[3*len(ratios)/4])
		}
	}
}

// TestTimingOracle times the verification of bad tokens against a good
// one, in alternating batches (median of the batch ratios): a token whose
// signature is bad costs the signature check a good token costs, and one
// that is well signed but wrong in a claim costs the same again, so
// timing tells an attacker nothing about which check failed beyond what
// the error already says. An unknown kid is refused before any signature
// check: that only tells which kids the issuer publishes, which its JWKS
// says anyway.
func TestTimingOracle(t *testing.T) {
	pairs, batch := 31, 100
	if testing.Short() {
		pairs, batch = 3, 10
	}
	f := newFixture(t, jose.RS256)
	ctx := context.Background()
	sig := []byte(f.tok)
	sig[len(sig)-5] ^= 1
	cases := []struct{ name, tok string }{
		{"bad signature", string(sig)},
		{"wrong issuer", f.iss.Mint(auth.Token{Subject: "svc", Issuer: "https://evil.test", Audience: []string{aud}})},
		{"wrong audience", f.iss.Mint(auth.Token{Subject: "svc", Audience: []string{"https://other.test"}})},
		{"expired", f.iss.Mint(auth.Token{Subject: "svc", Audience: []string{aud}, Expiry: time.Now().Add(-time.Hour)})},
	}
	run := func(tok string, wantErr bool) time.Duration {
		start := time.Now()
		for range batch {
			if _, err := f.v.Verify(ctx, tok); (err != nil) != wantErr {
				t.Fatalf("Verify: %v", err)
			}
		}
		return time.Since(start)
	}
	for _, c := range cases {
		ratios := make([]float64, pairs)
		for i := range ratios {
			good := run(f.tok, false)
			ratios[i] = float64(run(c.tok, true)) / float64(good)
		}
		slices.Sort(ratios)
		t.Logf("%-15s / good token: median %.3f over %d paired batches (quartiles %.3f–%.3f)", c.name, ratios[pairs/2], pairs, ratios[pairs/4], ratios[3*pairs/4])
	}
}

// The hot paths as Go benchmarks (go test -bench . -benchmem): a JWT
// verified with cached keys on each side, and a cached introspection hit.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		f := newFixture(b, alg)
		b.Run(string(alg)+"/auth", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.v.Verify(ctx, f.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/go-jose", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.jose(f.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/golang-jwt", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.golangJWT(f.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkIntrospectionCached(b *testing.B) {
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	iss.AddClient("rs", "rs-secret")
	v := auth.NewIntrospectionVerifier(iss.URL(), auth.WithClient("rs", "rs-secret"))
	defer v.Close()
	tok := iss.MintOpaque(auth.Token{Subject: "svc", Scopes: []string{"read"}})
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
	if n := iss.Introspections.Load(); n != 1 {
		b.Fatalf("%d introspections at the issuer, want 1", n)
	}
}
