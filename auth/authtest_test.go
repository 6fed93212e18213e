package auth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authtest"
)

// memHarness runs the conformance suite against the memory issuer with
// verifier kind jwt, introspection or chain.
func memHarness(t *testing.T, kind string) authtest.Harness {
	iss := auth.NewMemoryIssuer()
	t.Cleanup(iss.Close)
	iss.AddClient("rs", "rs-secret")
	var mu sync.Mutex
	introspectors := map[*testing.T]*auth.IntrospectionVerifier{} // by the subtest that made it
	h := authtest.Harness{
		Issuer:   iss.URL(),
		Audience: aud,
		Opaque:   kind != "jwt",
		Mint:     iss.Mint,
		Token: func(t *testing.T) string {
			tok := auth.Token{Subject: "svc-a", ClientID: "svc-a", Scopes: []string{"read"}, Audience: []string{aud}}
			if kind == "jwt" || kind == "chain-jwt" {
				return iss.Mint(tok)
			}
			return iss.MintOpaque(tok)
		},
		New: func(t *testing.T, opts ...auth.Option) auth.Verifier {
			jv := auth.NewJWTVerifier(iss.URL(), append([]auth.Option{auth.WithTokenType("at+jwt")}, opts...)...)
			iv := auth.NewIntrospectionVerifier(iss.URL(), append([]auth.Option{auth.WithClient("rs", "rs-secret")}, opts...)...)
			t.Cleanup(func() { jv.Close(); iv.Close() })
			var v auth.Verifier
			switch kind {
			case "jwt":
				return jv
			case "introspection":
				v = iv
			default:
				v = auth.Chain(jv, iv)
			}
			mu.Lock()
			introspectors[t] = iv
			mu.Unlock()
			return v
		},
	}
	if kind == "introspection" || kind == "chain" {
		h.Revoke = func(t *testing.T, v auth.Verifier, token string) error {
			mu.Lock()
			iv := introspectors[t]
			mu.Unlock()
			r := auth.NewRevoker(iss.URL(), []*auth.IntrospectionVerifier{iv}, auth.WithClient("rs", "rs-secret"))
			defer r.Close()
			return r.Revoke(context.Background(), token, "access_token")
		}
	}
	return h
}

func TestConformanceMemoryJWT(t *testing.T) { authtest.Run(t, memHarness(t, "jwt")) }
func TestConformanceMemoryIntrospection(t *testing.T) {
	authtest.Run(t, memHarness(t, "introspection"))
}
func TestConformanceMemoryChain(t *testing.T)    { authtest.Run(t, memHarness(t, "chain")) }
func TestConformanceMemoryChainJWT(t *testing.T) { authtest.Run(t, memHarness(t, "chain-jwt")) }
