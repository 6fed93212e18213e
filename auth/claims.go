package auth

import (
	"context"
	"slices"
	"time"
)

// Claims is what a verified token says. A *Claims returned by a Verifier
// may be shared with other callers (cached): treat it as read-only.
type Claims struct {
	Subject   string
	ClientID  string
	Scopes    []string
	Audience  []string
	Issuer    string
	Expiry    time.Time
	NotBefore time.Time
	IssuedAt  time.Time
	// Raw holds every claim as decoded from JSON.
	Raw map[string]any
}

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool { return c != nil && slices.Contains(c.Scopes, s) }

// Verifier turns a bearer token into Claims. Errors wrap ErrInvalidToken
// (with a reason) or ErrUnavailable (fail closed); never both.
type Verifier interface {
	Verify(ctx context.Context, token string) (*Claims, error)
}

type claimsKey struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the claims Middleware or the authgrpc interceptors put
// in ctx, or nil.
func ClaimsFrom(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}
