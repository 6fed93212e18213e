// Package oauth2auth wires package auth for one OAuth2/OpenID issuer: a
// client-credentials token source for outbound calls and a verifier (JWT
// via JWKS, then introspection for opaque tokens) for inbound ones.
package oauth2auth

import (
	"context"
	"net/http"
	"time"

	"github.com/microos/go-os/auth"
)

// Config names the issuer and this service's client.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string   // never logged
	Audience     string   // required audience of inbound JWTs; resource of outbound tokens
	Scopes       []string // scopes of outbound tokens
}

// Auth is the wired set.
type Auth struct {
	Source        *auth.TokenSource
	JWT           *auth.JWTVerifier
	Introspection *auth.IntrospectionVerifier
	Verifier      auth.Verifier // JWT, then introspection
	Revoker       *auth.Revoker
}

// New discovers the issuer's endpoints and builds the set.
func New(ctx context.Context, c Config, opts ...auth.Option) (*Auth, error) {
	// One discovery, on a client of its own whose connection is dropped
	// at once: the parts below keep their own clients.
	dc := &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	md, err := auth.Discover(ctx, dc, c.Issuer)
	dc.CloseIdleConnections()
	if err != nil {
		return nil, err
	}
	cl := auth.WithClient(c.ClientID, c.ClientSecret)
	a := &Auth{
		Source:        auth.NewTokenSource(md.TokenEndpoint, c.ClientID, c.ClientSecret, c.Scopes, append(opts, auth.WithAudience(c.Audience))...),
		JWT:           auth.NewJWTVerifier(c.Issuer, append(opts, auth.WithAudience(c.Audience), auth.WithTokenType("at+jwt"))...),
		Introspection: auth.NewIntrospectionVerifier(c.Issuer, append(opts, cl)...),
	}
	a.Verifier = auth.Chain(a.JWT, a.Introspection)
	a.Revoker = auth.NewRevoker(c.Issuer, []*auth.IntrospectionVerifier{a.Introspection}, append(opts, cl)...)
	return a, nil
}

// Check is the health of the token endpoint and the JWKS.
func (a *Auth) Check(ctx context.Context) error {
	if err := a.JWT.Check(ctx); err != nil {
		return err
	}
	return a.Source.Check(ctx)
}

// Close closes every part.
func (a *Auth) Close() error {
	a.Introspection.Close()
	a.JWT.Close()
	a.Revoker.Close()
	return a.Source.Close()
}
