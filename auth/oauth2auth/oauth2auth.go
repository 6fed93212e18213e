// Package oauth2auth wires package auth for one OAuth2/OpenID issuer: a
// client-credentials token source for outbound calls and a verifier (JWT
// via JWKS, then introspection for opaque tokens) for inbound ones. It
// registers the https and http (loopback only) schemes of auth.Open:
//
//	a, err := auth.Open(ctx, "https://issuer.example?client_id=orders&client_secret_env=ORDERS_SECRET&audience=https://orders")
package oauth2auth

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/microos/go-os/auth"
)

// Config names the issuer and this service's client.
type Config = auth.Config

// Auth is the wired set.
type Auth = auth.Auth

func init() {
	open := func(ctx context.Context, u *url.URL) (*auth.Auth, error) {
		c, err := auth.ConfigFromURL(u)
		if err != nil {
			return nil, err
		}
		return New(ctx, c)
	}
	auth.Register("https", open)
	auth.Register("http", open)
}

// New discovers the issuer's endpoints and builds the set.
func New(ctx context.Context, c Config, opts ...auth.Option) (*Auth, error) {
	// One discovery, on a client of its own whose connection is dropped
	// at once: the parts keep their own clients.
	dc := &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	md, err := auth.Discover(ctx, dc, c.Issuer)
	dc.CloseIdleConnections()
	if err != nil {
		return nil, err
	}
	return auth.Wire(md, c, opts...), nil
}
