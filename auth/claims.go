package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	// Roles is the "roles" claim (a JSON array, or a space-separated
	// string), what Rule.Roles asks for.
	Roles []string
	// Raw is every claim as JSON: the JWT payload, or the introspection
	// answer. Decode reads it into a struct of the caller's; it is kept as
	// bytes so that the hot path decodes claims once.
	Raw json.RawMessage
}

// Decode unmarshals the token's claims (Raw) into v, a pointer to a struct
// or map of the caller's.
func (c *Claims) Decode(v any) error {
	if c == nil || len(c.Raw) == 0 {
		return fmt.Errorf("%w: no claims", ErrInvalid)
	}
	return json.Unmarshal(c.Raw, v)
}

// stringList is a JSON array of strings or a single space-separated
// string (how issuers write aud, scp and roles).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = strings.Fields(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*l = a
	return nil
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
