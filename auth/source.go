package auth

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/health"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TokenSource gets access tokens for this service by the OAuth2 client
// credentials grant (golang.org/x/oauth2/clientcredentials). The token is
// cached and fetched again before it expires, at a jittered point of its
// lifetime (70–80%) so that instances started together do not refresh
// together; one fetch is in flight at a time. While the token endpoint is
// down the last token is used until it expires; after that callers get an
// error wrapping ErrUnavailable within their ctx deadline. Safe for
// concurrent use.
type TokenSource struct {
	o   options
	cfg clientcredentials.Config

	cur atomic.Pointer[held]

	mu       sync.Mutex
	inflight chan struct{} // closed when the fetch in flight ends
	lastErr  error
	retryAt  time.Time
	// invalidated is when Invalidate last dropped the token.
	invalidated time.Time
	wg          sync.WaitGroup

	fetches atomic.Int64
	closed  atomic.Bool
	health  health.Tracker

	base context.Context // of the fetches; cancelled by Shutdown
	stop context.CancelFunc
}

type held struct {
	tok       *oauth2.Token
	header    []string // {"Bearer <token>"}, shared read-only
	refreshAt time.Time
	expiry    time.Time
}

// NewTokenSource returns a client-credentials token source for tokenURL.
// The secret is never logged. Options: WithClock, WithLogger,
// WithHTTPClient, WithAudience (sent as the RFC 8707 resource parameter).
func NewTokenSource(tokenURL, clientID, clientSecret string, scopes []string, opts ...Option) *TokenSource {
	o := newOptions(opts)
	s := &TokenSource{o: o, cfg: clientcredentials.Config{
		ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, Scopes: scopes,
	}}
	if o.audience != "" {
		s.cfg.EndpointParams = map[string][]string{"resource": {o.audience}}
	}
	s.health.Now = o.now
	s.base, s.stop = context.WithCancel(context.Background())
	return s
}

// Fetches is the number of token requests made.
func (s *TokenSource) Fetches() int64 { return s.fetches.Load() }

// Token returns a valid token, fetching one when none is cached or the
// cached one is due for refresh.
func (s *TokenSource) Token(ctx context.Context) (*oauth2.Token, error) {
	h, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	return h.tok, nil
}

func (s *TokenSource) get(ctx context.Context) (*held, error) {
	now := s.o.now()
	h := s.cur.Load()
	if h != nil && now.Before(h.refreshAt) {
		return h, nil
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	valid := h != nil && now.Before(h.expiry)
	s.mu.Lock()
	if s.inflight == nil && (!valid || !now.Before(s.retryAt)) {
		s.inflight = make(chan struct{})
		s.wg.Add(1)
		go s.fetch(s.inflight)
	}
	wait, lastErr := s.inflight, s.lastErr
	s.mu.Unlock()
	if valid {
		return h, nil // refresh runs in the background meanwhile
	}
	if wait == nil { // no valid token and a retry not due yet
		return nil, fmt.Errorf("%w: token endpoint: %w", ErrUnavailable, lastErr)
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: token endpoint: %w (last error: %v)", ErrUnavailable, ctx.Err(), lastErr)
	}
	if h := s.cur.Load(); h != nil && s.o.now().Before(h.expiry) {
		return h, nil
	}
	s.mu.Lock()
	lastErr = s.lastErr
	s.mu.Unlock()
	return nil, fmt.Errorf("%w: token endpoint: %w", ErrUnavailable, lastErr)
}

func (s *TokenSource) fetch(done chan struct{}) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.base, 30*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.o.client)
	s.fetches.Add(1)
	tok, err := s.cfg.Token(ctx)
	now := s.o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	defer close(done)
	if err != nil {
		s.health.Failure(err)
		s.lastErr = err
		s.retryAt = now.Add(time.Second + rand.N(time.Second))
		s.o.logger.LogAttrs(ctx, slog.LevelWarn, "auth: token fetch failed", slog.String("token_url", s.cfg.TokenURL), slog.String("client_id", s.cfg.ClientID), slog.Any("error", err))
		return
	}
	s.health.Success()
	s.lastErr = nil
	// Expiry on our clock (oauth2 computes tok.Expiry on time.Now).
	life := time.Hour
	if tok.ExpiresIn > 0 {
		life = time.Duration(tok.ExpiresIn) * time.Second
	} else if !tok.Expiry.IsZero() {
		life = time.Until(tok.Expiry)
	}
	if life <= 0 {
		life = time.Second
	}
	exp := now.Add(life)
	refreshAt := now.Add(life*7/10 + rand.N(life/10+1))
	s.cur.Store(&held{tok: tok, header: []string{"Bearer " + tok.AccessToken}, refreshAt: refreshAt, expiry: exp})
}

// Invalidate drops the cached token if it is still token (a server
// answered 401 to it), so the next Token fetches a fresh one. It takes
// effect at most once per invalidateEvery: a server that refuses every
// token must not turn each call into a request to the token endpoint.
func (s *TokenSource) Invalidate(token string) {
	h := s.cur.Load()
	if h == nil || h.tok.AccessToken != token {
		return
	}
	now := s.o.now()
	s.mu.Lock()
	if !s.invalidated.IsZero() && now.Sub(s.invalidated) < invalidateEvery {
		s.mu.Unlock()
		return
	}
	s.invalidated = now
	s.mu.Unlock()
	s.cur.CompareAndSwap(h, nil)
}

// invalidateEvery is the least time between two invalidations that take
// effect.
const invalidateEvery = 5 * time.Second

// Check reports the health of the token endpoint from the last fetch.
func (s *TokenSource) Check(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.health.Check(ctx, ErrUnavailable)
}

// Shutdown stops the source, cancels a fetch in flight and waits (within
// ctx) for it to end.
func (s *TokenSource) Shutdown(ctx context.Context) error {
	s.closed.Store(true)
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.o.release()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown bounded by a default timeout. Idempotent.
func (s *TokenSource) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// As reaches the *clientcredentials.Config.
func (s *TokenSource) As(i any) bool {
	if p, ok := i.(**clientcredentials.Config); ok {
		*p = &s.cfg
		return true
	}
	return false
}

// Transport returns a RoundTripper that adds source's bearer token to each
// request and, when the server answers 401, retries once with a fresh
// token (only when the body can be replayed: no body, or GetBody set).
func Transport(base http.RoundTripper, source *TokenSource) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, src: source}
}

type transport struct {
	base http.RoundTripper
	src  *TokenSource
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	h, err := t.src.get(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(withAuth(req, h.header))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil
	}
	t.src.Invalidate(h.tok.AccessToken)
	h2, err := t.src.get(req.Context())
	if err != nil || h2.tok.AccessToken == h.tok.AccessToken {
		return resp, nil
	}
	r2 := withAuth(req, h2.header)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r2.Body = body
	}
	resp.Body.Close()
	return t.base.RoundTrip(r2)
}

// withAuth is a shallow copy of req (a RoundTripper must not modify the
// request it is handed) with its own Header carrying auth.
func withAuth(req *http.Request, auth []string) *http.Request {
	r := new(http.Request)
	*r = *req
	h := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		h[k] = v
	}
	h["Authorization"] = auth
	r.Header = h
	return r
}
