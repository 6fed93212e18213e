package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/health"
)

// IntrospectionVerifier verifies opaque tokens by RFC 7662 introspection at
// the issuer. Active results are cached until the token's expiry (bounded
// by the cache's size and maximum age); concurrent verifications of one
// uncached token share one introspection call. Inactive answers are not
// cached. Safe for concurrent use.
type IntrospectionVerifier struct {
	o        options
	issuer   string
	endpoint atomic.Pointer[string]

	mu     sync.RWMutex
	cache  map[string]cacheEntry
	byHash map[string]string // TokenHash -> token, for ForgetHash

	fmu      sync.Mutex
	inflight map[string]*call

	calls  atomic.Int64
	closed atomic.Bool
	health health.Tracker
}

type cacheEntry struct {
	claims *Claims
	until  int64 // unix nanoseconds
	hash   string
}

type call struct {
	done   chan struct{}
	claims *Claims
	err    error
}

// NewIntrospectionVerifier returns a verifier that introspects at the
// issuer's introspection_endpoint (found by discovery on first use),
// authenticated with WithClient.
func NewIntrospectionVerifier(issuer string, opts ...Option) *IntrospectionVerifier {
	o := newOptions(opts)
	v := &IntrospectionVerifier{o: o, issuer: issuer, cache: map[string]cacheEntry{}, byHash: map[string]string{}, inflight: map[string]*call{}}
	v.health.Now = o.now
	return v
}

// Introspections is the number of introspection calls made.
func (v *IntrospectionVerifier) Introspections() int64 { return v.calls.Load() }

// Verify returns the token's claims from the cache or by introspection.
func (v *IntrospectionVerifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, ErrMissing
	}
	now := v.o.now().UnixNano()
	v.mu.RLock()
	e, ok := v.cache[token]
	v.mu.RUnlock()
	if ok && now < e.until {
		return e.claims, nil
	}
	return v.slow(ctx, token)
}

func (v *IntrospectionVerifier) slow(ctx context.Context, token string) (*Claims, error) {
	if v.closed.Load() {
		return nil, ErrClosed
	}
	if len(token) > v.o.maxTokenSize {
		return nil, reject(ErrMalformed, "%d bytes, limit %d", len(token), v.o.maxTokenSize)
	}
	v.fmu.Lock()
	// A call that finished since the cache was read stored its result
	// before leaving inflight: read the cache again under fmu.
	v.mu.RLock()
	e, hit := v.cache[token]
	v.mu.RUnlock()
	if hit && v.o.now().UnixNano() < e.until {
		v.fmu.Unlock()
		return e.claims, nil
	}
	c, ok := v.inflight[token]
	if !ok {
		c = &call{done: make(chan struct{})}
		v.inflight[token] = c
		// The call runs detached from any one caller's ctx so that one
		// caller giving up does not fail the others; it is bounded by
		// the HTTP client's timeout.
		go func() {
			c.claims, c.err = v.introspect(context.WithoutCancel(ctx), token)
			v.fmu.Lock()
			delete(v.inflight, token)
			v.fmu.Unlock()
			close(c.done)
		}()
	}
	v.fmu.Unlock()
	select {
	case <-c.done:
		return c.claims, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, ctx.Err())
	}
}

func (v *IntrospectionVerifier) endpointURL(ctx context.Context) (string, error) {
	if p := v.endpoint.Load(); p != nil {
		return *p, nil
	}
	md, err := Discover(ctx, v.o.client, v.issuer)
	if err != nil {
		return "", err
	}
	if md.IntrospectionEndpoint == "" {
		return "", fmt.Errorf("%w: issuer %s has no introspection_endpoint", ErrUnavailable, v.issuer)
	}
	v.endpoint.Store(&md.IntrospectionEndpoint)
	return md.IntrospectionEndpoint, nil
}

type introspection struct {
	Active    bool       `json:"active"`
	Scope     string     `json:"scope"`
	ClientID  string     `json:"client_id"`
	Subject   string     `json:"sub"`
	Issuer    string     `json:"iss"`
	Audience  audience   `json:"aud"`
	Expiry    float64    `json:"exp"`
	NotBefore float64    `json:"nbf"`
	IssuedAt  float64    `json:"iat"`
	TokenType string     `json:"token_type"`
	Roles     stringList `json:"roles"`
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	err := json.Unmarshal(b, &l)
	*a = l
	return err
}

func unix(s float64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0)
}

func (v *IntrospectionVerifier) introspect(ctx context.Context, token string) (*Claims, error) {
	c, err := v.doIntrospect(ctx, token)
	if err != nil && !isRejection(err) {
		v.health.Failure(err)
	} else {
		v.health.Success()
	}
	return c, err
}

func isRejection(err error) bool { return errorsIs(err, ErrInvalidToken) }

func (v *IntrospectionVerifier) doIntrospect(ctx context.Context, token string) (*Claims, error) {
	ep, err := v.endpointURL(ctx)
	if err != nil {
		return nil, err
	}
	v.calls.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep,
		strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(v.o.clientID), url.QueryEscape(v.o.clientSecret))
	resp, err := v.o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	var in introspection
	if err := decodeJSON(resp, ep, &raw); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("%w: introspection answer: %w", ErrUnavailable, err)
	}
	if !in.Active {
		return nil, reject(ErrInactive, "introspection says active: false")
	}
	now := v.o.now()
	if in.Issuer != "" && in.Issuer != v.issuer {
		return nil, reject(ErrIssuer, "%q", in.Issuer)
	}
	if v.o.audience != "" && !contains(in.Audience, v.o.audience) {
		return nil, reject(ErrAudience, "%q", []string(in.Audience))
	}
	exp := unix(in.Expiry)
	if !exp.IsZero() && !now.Before(exp.Add(v.o.skew)) {
		return nil, reject(ErrExpired, "at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf := unix(in.NotBefore); !nbf.IsZero() && now.Add(v.o.skew).Before(nbf) {
		return nil, reject(ErrNotYetValid, "until %s", nbf.UTC().Format(time.RFC3339))
	}
	if iat := unix(in.IssuedAt); !iat.IsZero() && now.Add(v.o.skew).Before(iat) {
		return nil, reject(ErrNotYetValid, "issued at %s, in the future", iat.UTC().Format(time.RFC3339))
	}
	c := &Claims{
		Subject: in.Subject, ClientID: in.ClientID, Scopes: strings.Fields(in.Scope),
		Audience: in.Audience, Issuer: in.Issuer, Expiry: exp,
		NotBefore: unix(in.NotBefore), IssuedAt: unix(in.IssuedAt), Roles: in.Roles, Raw: raw,
	}
	until := now.Add(v.o.cacheMaxAge)
	if !exp.IsZero() && exp.Before(until) {
		until = exp
	}
	v.store(token, cacheEntry{claims: c, until: until.UnixNano(), hash: TokenHash(token)})
	return c, nil
}

// TokenHash identifies a token without revealing it: the unpadded
// base64url SHA-256 of the token. Revocation notices carry it.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (v *IntrospectionVerifier) store(token string, e cacheEntry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= v.o.cacheSize {
		// Drop expired entries; if none, an arbitrary one (map order).
		now := v.o.now().UnixNano()
		for k, old := range v.cache {
			if old.until <= now {
				v.drop(k)
			}
		}
		for k := range v.cache {
			if len(v.cache) < v.o.cacheSize {
				break
			}
			v.drop(k)
		}
	}
	v.cache[token] = e
	v.byHash[e.hash] = token
}

// drop removes token's entry; v.mu held.
func (v *IntrospectionVerifier) drop(token string) {
	if e, ok := v.cache[token]; ok {
		delete(v.byHash, e.hash)
		delete(v.cache, token)
	}
}

// Forget drops token's cached result at once (after revocation).
func (v *IntrospectionVerifier) Forget(token string) {
	v.mu.Lock()
	v.drop(token)
	v.mu.Unlock()
}

// ForgetHash drops the cached result of the token whose TokenHash is h:
// what another instance's revocation announces (auth/authevent), without
// the token itself crossing the wire.
func (v *IntrospectionVerifier) ForgetHash(h string) {
	v.mu.Lock()
	if tok, ok := v.byHash[h]; ok {
		v.drop(tok)
	}
	v.mu.Unlock()
}

// Cached reports whether token's result is in the cache (expired or not).
func (v *IntrospectionVerifier) Cached(token string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.cache[token]
	return ok
}

// CacheLen is the number of cached results.
func (v *IntrospectionVerifier) CacheLen() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.cache)
}

// Check reports the health of the introspection endpoint from the last
// calls (no round trip).
func (v *IntrospectionVerifier) Check(ctx context.Context) error {
	if v.closed.Load() {
		return ErrClosed
	}
	return v.health.Check(ctx, ErrUnavailable)
}

// Close stops the verifier and empties the cache. Idempotent.
func (v *IntrospectionVerifier) Close() error {
	v.closed.Store(true)
	v.mu.Lock()
	clear(v.cache)
	clear(v.byHash)
	v.mu.Unlock()
	v.o.release()
	return nil
}

// Shutdown waits for introspection calls in flight (within ctx) and closes.
func (v *IntrospectionVerifier) Shutdown(ctx context.Context) error {
	v.closed.Store(true)
	for {
		v.fmu.Lock()
		var c *call
		for _, x := range v.inflight {
			c = x
			break
		}
		v.fmu.Unlock()
		if c == nil {
			break
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return v.Close()
}

// As reaches the *http.Client the verifier uses.
func (v *IntrospectionVerifier) As(i any) bool {
	if p, ok := i.(**http.Client); ok {
		*p = v.o.client
		return true
	}
	return false
}

// Chain tries each verifier in turn: the first that accepts the token
// wins. A JWT verifier first, then introspection, verifies JWTs locally and
// opaque tokens remotely. A token one verifier found malformed (not a JWT)
// goes to the next; any other rejection or an unavailable server is final,
// so a badly signed JWT is not sent to introspection.
func Chain(vs ...Verifier) Verifier { return chain(vs) }

type chain []Verifier

func (c chain) Verify(ctx context.Context, token string) (*Claims, error) {
	var err error
	for _, v := range c {
		var cl *Claims
		cl, err = v.Verify(ctx, token)
		if err == nil || !errorsIs(err, ErrMalformed) {
			return cl, err
		}
	}
	if err == nil {
		err = ErrMissing
	}
	return nil, err
}
