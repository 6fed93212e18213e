package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/microos/go-os/internal/urlopen"
)

// Config names an issuer and this service's client.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string   // never logged
	Audience     string   // required audience of inbound tokens; resource of outbound ones
	Scopes       []string // scopes of outbound tokens
}

// Auth is one issuer's wired set, what Open returns: a token source for
// outbound calls and a verifier for inbound ones. Source, Introspection
// and Revoker are nil when the configuration names no client (a service
// that only verifies JWTs).
type Auth struct {
	Source        *TokenSource
	JWT           *JWTVerifier
	Introspection *IntrospectionVerifier
	Verifier      Verifier // JWT, then introspection when there is a client
	Revoker       *Revoker

	issuer *MemoryIssuer // mem:// only
}

// Check is the health of the JWKS and of the token endpoint.
func (a *Auth) Check(ctx context.Context) error {
	if err := a.JWT.Check(ctx); err != nil {
		return err
	}
	if a.Source != nil {
		return a.Source.Check(ctx)
	}
	return nil
}

// Close closes every part (and the memory issuer of a mem:// URL).
func (a *Auth) Close() error {
	var errs []error
	if a.Introspection != nil {
		errs = append(errs, a.Introspection.Close())
	}
	errs = append(errs, a.JWT.Close())
	if a.Revoker != nil {
		errs = append(errs, a.Revoker.Close())
	}
	if a.Source != nil {
		errs = append(errs, a.Source.Close())
	}
	if a.issuer != nil {
		a.issuer.Close()
	}
	return errors.Join(errs...)
}

// As reaches the memory issuer behind a mem:// URL (**MemoryIssuer).
func (a *Auth) As(i any) bool {
	if p, ok := i.(**MemoryIssuer); ok && a.issuer != nil {
		*p = a.issuer
		return true
	}
	return false
}

// Wire builds the set for c on endpoints already discovered (md).
func Wire(md *Metadata, c Config, opts ...Option) *Auth {
	a := &Auth{JWT: NewJWTVerifier(c.Issuer, append(opts, WithAudience(c.Audience), WithTokenType("at+jwt"))...)}
	a.Verifier = a.JWT
	if c.ClientID == "" {
		return a
	}
	cl := WithClient(c.ClientID, c.ClientSecret)
	a.Source = NewTokenSource(md.TokenEndpoint, c.ClientID, c.ClientSecret, c.Scopes, append(opts, WithAudience(c.Audience))...)
	if md.IntrospectionEndpoint != "" {
		// No audience required of introspected tokens: providers issue
		// opaque tokens without one; the issuer vouches for them.
		a.Introspection = NewIntrospectionVerifier(c.Issuer, append(opts, cl)...)
		a.Verifier = Chain(a.JWT, a.Introspection)
	}
	var caches []*IntrospectionVerifier
	if a.Introspection != nil {
		caches = append(caches, a.Introspection)
	}
	a.Revoker = NewRevoker(c.Issuer, caches, append(opts, cl)...)
	return a
}

var registry = urlopen.New[*Auth]("auth")

func init() {
	registry.Register("mem", openMemory)
}

// Register makes Open understand scheme. auth/oauth2auth registers https
// and http (loopback hosts only) in init.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (*Auth, error)) {
	registry.Register(scheme, open)
}

// Open returns the wired set for a URL:
//
//	mem://?client_id=svc&scope=read+write&audience=https://orders
//	https://issuer.example/realm?client_id=svc&client_secret_file=/run/secrets/svc&audience=https://orders&scope=read
//
// mem:// starts a MemoryIssuer (reached with As) with the client
// registered; an https (or loopback http) URL is the issuer's identifier,
// its endpoints found by discovery (import auth/oauth2auth). Parameters:
// client_id, client_secret_env (the name of an environment variable) or
// client_secret_file (a file holding the secret), audience, scope (space-
// or comma-separated). The secret itself never appears in the URL:
// client_secret and a password in the URL are refused, as is any other
// unknown parameter.
func Open(ctx context.Context, rawURL string) (*Auth, error) {
	u, err := urlopen.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: open: %w", ErrInvalid, err)
	}
	if u.Query().Has("client_secret") {
		// Refused before the registry, whose errors quote the URL.
		return nil, fmt.Errorf("%w: open: client_secret in the URL would be logged with it: use client_secret_env or client_secret_file", ErrInvalid)
	}
	return registry.OpenURL(ctx, u)
}

// ConfigFromURL reads a Config from u's parameters (see Open); the
// issuer is u without its query for http and https URLs.
func ConfigFromURL(u *url.URL) (Config, error) {
	var c Config
	if u.User != nil {
		return c, fmt.Errorf("%w: credentials in the URL: use client_id and client_secret_env or client_secret_file", ErrInvalid)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "client_id", "client_secret_env", "client_secret_file", "audience", "scope":
		case "client_secret":
			return c, fmt.Errorf("%w: client_secret in the URL would be logged with it: use client_secret_env or client_secret_file", ErrInvalid)
		default:
			return c, fmt.Errorf("%w: unknown URL parameter %q (want client_id, client_secret_env, client_secret_file, audience, scope)", ErrInvalid, k)
		}
		if len(q[k]) > 1 {
			return c, fmt.Errorf("%w: URL parameter %q given %d times", ErrInvalid, k, len(q[k]))
		}
	}
	c.ClientID, c.Audience = q.Get("client_id"), q.Get("audience")
	c.Scopes = strings.FieldsFunc(q.Get("scope"), func(r rune) bool { return r == ' ' || r == ',' })
	env, file := q.Get("client_secret_env"), q.Get("client_secret_file")
	switch {
	case env != "" && file != "":
		return c, fmt.Errorf("%w: both client_secret_env and client_secret_file", ErrInvalid)
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return c, fmt.Errorf("%w: client_secret_env: $%s is not set", ErrInvalid, env)
		}
		c.ClientSecret = v
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("%w: client_secret_file: %v", ErrInvalid, err)
		}
		c.ClientSecret = strings.TrimSpace(string(b))
		if c.ClientSecret == "" {
			return c, fmt.Errorf("%w: client_secret_file %s is empty", ErrInvalid, file)
		}
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		if u.Fragment != "" || u.Host == "" {
			return c, fmt.Errorf("%w: issuer URL needs a host and no fragment", ErrInvalid)
		}
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return c, fmt.Errorf("%w: http issuer %s is not on loopback: tokens and secrets need https", ErrInvalid, u.Host)
		}
		iss := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
		c.Issuer = iss.String()
		if c.ClientID != "" && c.ClientSecret == "" {
			return c, fmt.Errorf("%w: client_id %q without client_secret_env or client_secret_file", ErrInvalid, c.ClientID)
		}
	}
	return c, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func openMemory(_ context.Context, u *url.URL) (*Auth, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: mem:// takes no host or path", ErrInvalid)
	}
	c, err := ConfigFromURL(u)
	if err != nil {
		return nil, err
	}
	iss := NewMemoryIssuer()
	c.Issuer = iss.URL()
	if c.ClientID != "" && c.ClientSecret == "" {
		b := make([]byte, 16)
		rand.Read(b)
		c.ClientSecret = hex.EncodeToString(b)
	}
	if c.ClientID != "" {
		iss.AddClient(c.ClientID, c.ClientSecret, c.Scopes...)
	}
	u0 := iss.URL()
	md := &Metadata{Issuer: u0, JWKSURI: u0 + "/jwks", TokenEndpoint: u0 + "/token", IntrospectionEndpoint: u0 + "/introspect", RevocationEndpoint: u0 + "/revoke"}
	a := Wire(md, c)
	a.issuer = iss
	return a, nil
}
