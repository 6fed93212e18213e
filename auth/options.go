package auth

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Option configures a verifier, token source or issuer.
type Option func(*options)

type options struct {
	logger       *slog.Logger
	now          func() time.Time
	client       *http.Client
	ownClient    bool // the default client: Close drops its idle connections
	audience     string
	skew         time.Duration
	algs         []jose.SignatureAlgorithm
	typ          string
	minRefresh   time.Duration
	keyMaxAge    time.Duration
	maxTokenSize int
	clientID     string
	clientSecret string
	cacheSize    int
	cacheMaxAge  time.Duration
	queryToken   bool
	realm        string
	service      string
	routes       interface {
		Handler(*http.Request) (http.Handler, string)
	}
	notify func(ctx context.Context, tokenHash string) error
}

func newOptions(opts []Option) options {
	o := options{
		logger: slog.New(slog.DiscardHandler),
		now:    time.Now,
		// A transport of its own, so that Close can drop the idle
		// connections without touching the process's DefaultTransport.
		client:       &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		ownClient:    true,
		skew:         30 * time.Second,
		algs:         DefaultAlgorithms,
		minRefresh:   10 * time.Second,
		keyMaxAge:    time.Hour,
		maxTokenSize: 16 << 10,
		cacheSize:    10000,
		cacheMaxAge:  5 * time.Minute,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// DefaultAlgorithms are the asymmetric JWS algorithms accepted by default.
// Symmetric (HS*) and "none" are never accepted, whatever is configured.
var DefaultAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// WithLogger sets the logger (discarded by default). Tokens and secrets are
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock used for exp/nbf, caches and refresh limits.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithHTTPClient sets the client that talks to the authorization server.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.client, o.ownClient = c, false
		}
	}
}

// WithAudience requires tokens to name aud in their audience (a token
// with no audience is refused, JWT or introspected).
func WithAudience(aud string) Option { return func(o *options) { o.audience = aud } }

// WithSkew sets the clock skew allowed on exp and nbf (30s by default).
func WithSkew(d time.Duration) Option { return func(o *options) { o.skew = d } }

// WithAlgorithms restricts the accepted JWS algorithms; symmetric ones and
// "none" are dropped.
func WithAlgorithms(algs ...jose.SignatureAlgorithm) Option {
	return func(o *options) {
		o.algs = nil
		for _, a := range algs {
			if asymmetric(a) {
				o.algs = append(o.algs, a)
			}
		}
	}
}

// WithTokenType requires the JWS typ header to be typ (case-insensitive,
// "application/" prefix allowed), e.g. "at+jwt" (RFC 9068) for issuers
// that set it.
func WithTokenType(typ string) Option { return func(o *options) { o.typ = typ } }

// WithRefreshInterval sets the minimum time between two JWKS fetches
// caused by unknown key ids (10s by default): a storm of tokens with
// made-up kids costs at most one fetch per interval.
func WithRefreshInterval(d time.Duration) Option { return func(o *options) { o.minRefresh = d } }

// WithKeyMaxAge sets how long JWKS keys are used before they are fetched
// again in the background (an hour by default; 0: only on unknown kids).
// A key the issuer withdrew stops verifying at most this long after.
func WithKeyMaxAge(d time.Duration) Option { return func(o *options) { o.keyMaxAge = d } }

// WithClient sets the client id and secret used for introspection,
// revocation and the token endpoint. The secret is never logged.
func WithClient(id, secret string) Option {
	return func(o *options) { o.clientID, o.clientSecret = id, secret }
}

// WithCache bounds the introspection cache: at most size entries, each
// kept at most maxAge (and never past the token's expiry).
func WithCache(size int, maxAge time.Duration) Option {
	return func(o *options) { o.cacheSize, o.cacheMaxAge = size, maxAge }
}

func asymmetric(a jose.SignatureAlgorithm) bool {
	switch a {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA:
		return true
	}
	return false
}

// release drops the idle connections of the client the options made
// (a client handed in with WithHTTPClient is the caller's to manage).
func (o *options) release() {
	if o.ownClient {
		o.client.CloseIdleConnections()
	}
}
