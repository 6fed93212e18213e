package auth_test

import (
	"context"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/microos/go-os/auth"
)

// BenchmarkJWTVerifyCached is the inbound hot path: a JWT verified with
// the issuer's keys already cached (no I/O).
func BenchmarkJWTVerifyCached(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		b.Run(string(alg), func(b *testing.B) {
			iss := auth.NewMemoryIssuer()
			defer iss.Close()
			iss.RotateKey(alg)
			v := auth.NewJWTVerifier(iss.URL(), auth.WithAudience(aud), auth.WithTokenType("at+jwt"))
			defer v.Close()
			tok := iss.Mint(auth.Token{Subject: "svc", Scopes: []string{"read"}, Audience: []string{aud}})
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
		})
	}
}
