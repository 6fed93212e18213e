package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/microos/go-os/internal/health"
)

// JWTVerifier verifies JWT access tokens locally against the issuer's JWKS,
// found through /.well-known/openid-configuration. Keys are cached and
// fetched again when a token names an unknown kid, at most once per
// refresh interval, and in the background once they are older than
// WithKeyMaxAge (so that a key the issuer withdrew stops verifying even
// if no token ever names an unknown kid); until a fetch succeeds the
// cached keys keep verifying. Safe for concurrent use.
type JWTVerifier struct {
	o      options
	issuer string
	algs   []jose.SignatureAlgorithm

	keys atomic.Pointer[keySet]

	mu          sync.Mutex // serialises discovery and JWKS fetches
	md          *Metadata
	lastRefresh time.Time

	refreshes atomic.Int64 // JWKS fetches made
	limited   atomic.Int64 // refreshes refused by the rate limit
	closed    atomic.Bool
	health    health.Tracker

	nextAged atomic.Int64 // unix ns before which no age refresh starts
	wg       sync.WaitGroup
	base     context.Context // of age refreshes; cancelled by Close
	stop     context.CancelFunc
}

type keySet struct {
	byKid   map[string]jose.JSONWebKey
	all     []jose.JSONWebKey
	fetched time.Time
}

// NewJWTVerifier returns a verifier for tokens of issuer. It does no I/O:
// discovery and the first JWKS fetch happen on the first Verify (or Check).
func NewJWTVerifier(issuer string, opts ...Option) *JWTVerifier {
	o := newOptions(opts)
	v := &JWTVerifier{o: o, issuer: issuer, algs: o.algs}
	v.health.Now = o.now
	v.base, v.stop = context.WithCancel(context.Background())
	return v
}

// JWTStats counts JWKS fetches.
type JWTStats struct {
	Refreshes int64 // JWKS fetches made
	Limited   int64 // fetches an unknown kid asked for but the rate limit refused
}

// Stats returns the JWKS fetch counters.
func (v *JWTVerifier) Stats() JWTStats {
	return JWTStats{Refreshes: v.refreshes.Load(), Limited: v.limited.Load()}
}

func reject(r error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{r}, args...)...)
}

// Verify checks token's signature (allowed algorithms only, key from the
// issuer's JWKS), typ, issuer, audience, exp and nbf.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v.closed.Load() {
		return nil, ErrClosed
	}
	if token == "" {
		return nil, ErrMissing
	}
	if len(token) > v.o.maxTokenSize {
		return nil, reject(ErrMalformed, "%d bytes, limit %d", len(token), v.o.maxTokenSize)
	}
	// The compact JWS (as go-jose's jwt.ParseSigned), verified below with
	// jws.Verify and its payload decoded once with encoding/json, which is
	// what jwt.Claims would do with go-jose's slower JSON fork and one pass
	// per destination.
	jws, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		if alg := peekAlg(token); alg != "" && !slices.Contains(v.algs, jose.SignatureAlgorithm(alg)) {
			return nil, reject(ErrAlgorithm, "%q", alg)
		}
		return nil, reject(ErrMalformed, "%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, reject(ErrMalformed, "%d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if !slices.Contains(v.algs, alg) {
		return nil, reject(ErrAlgorithm, "%q", h.Algorithm)
	}
	if v.o.typ != "" {
		typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
		typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
		if typ != strings.ToLower(v.o.typ) {
			return nil, reject(ErrType, "typ %q, want %q", typ, v.o.typ)
		}
	}
	key, ks, err := v.key(ctx, h.KeyID, alg)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key.Key)
	if errors.Is(err, jose.ErrCryptoFailure) && h.KeyID != "" {
		// Some issuers rotate keys under the same kid: fetch the JWKS
		// again (rate-limited, like unknown kids) and retry once if the
		// key changed.
		if nks, rerr := v.refresh(ctx, ks); rerr == nil && nks != ks {
			if k2, ok := nks.find(h.KeyID, alg); ok && checkKey(k2, alg) == nil && !k2.Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Key) {
				payload, err = jws.Verify(k2.Key)
			}
		}
	}
	if err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, reject(ErrSignature, "kid %q", h.KeyID)
		}
		return nil, reject(ErrMalformed, "%v", err)
	}
	var cl struct {
		jwt.Claims
		Scope    string     `json:"scope"`
		Scp      stringList `json:"scp"`
		ClientID string     `json:"client_id"`
		Roles    stringList `json:"roles"`
	}
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, reject(ErrMalformed, "claims: %v", err)
	}
	std, extra := &cl.Claims, &cl
	now := v.o.now()
	if std.Issuer != v.issuer {
		return nil, reject(ErrIssuer, "%q", std.Issuer)
	}
	if v.o.audience != "" && !slices.Contains([]string(std.Audience), v.o.audience) {
		return nil, reject(ErrAudience, "%q", []string(std.Audience))
	}
	if std.Expiry == nil {
		return nil, reject(ErrMalformed, "no exp")
	}
	exp := std.Expiry.Time()
	if !now.Before(exp.Add(v.o.skew)) {
		return nil, reject(ErrExpired, "at %s", exp.UTC().Format(time.RFC3339))
	}
	var nbf, iat time.Time
	if std.NotBefore != nil {
		nbf = std.NotBefore.Time()
		if now.Add(v.o.skew).Before(nbf) {
			return nil, reject(ErrNotYetValid, "until %s", nbf.UTC().Format(time.RFC3339))
		}
	}
	if std.IssuedAt != nil {
		// Issued in the future (as go-jose's ErrIssuedInTheFuture): the
		// issuer's clock or ours is off by more than the skew.
		iat = std.IssuedAt.Time()
		if now.Add(v.o.skew).Before(iat) {
			return nil, reject(ErrNotYetValid, "issued at %s, in the future", iat.UTC().Format(time.RFC3339))
		}
	}
	scopes := []string(extra.Scp)
	if extra.Scope != "" {
		scopes = strings.Fields(extra.Scope)
	}
	return &Claims{
		Subject: std.Subject, ClientID: extra.ClientID, Scopes: scopes,
		Audience: std.Audience, Issuer: std.Issuer,
		Expiry: exp, NotBefore: nbf, IssuedAt: iat, Roles: extra.Roles, Raw: payload,
	}, nil
}

// peekAlg reads the alg of a token go-jose refused, only to say why it was
// refused (ErrAlgorithm rather than ErrMalformed). It verifies nothing.
func peekAlg(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 4096 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// key finds the verification key for kid and alg, fetching the JWKS when
// none is cached yet or kid is unknown (rate-limited).
func (v *JWTVerifier) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (jose.JSONWebKey, *keySet, error) {
	ks := v.keys.Load()
	if ks != nil {
		if v.o.keyMaxAge > 0 {
			if now := v.o.now(); now.Sub(ks.fetched) >= v.o.keyMaxAge && now.UnixNano() >= v.nextAged.Load() {
				v.refreshAged(ks, now)
			}
		}
		if k, ok := ks.find(kid, alg); ok {
			return k, ks, checkKey(k, alg)
		}
	}
	ks, err := v.refresh(ctx, ks)
	if err != nil {
		return jose.JSONWebKey{}, nil, err
	}
	if k, ok := ks.find(kid, alg); ok {
		return k, ks, checkKey(k, alg)
	}
	return jose.JSONWebKey{}, ks, reject(ErrUnknownKey, "kid %q", kid)
}

func (ks *keySet) find(kid string, alg jose.SignatureAlgorithm) (jose.JSONWebKey, bool) {
	if kid != "" {
		k, ok := ks.byKid[kid]
		return k, ok
	}
	// No kid: the only key of a matching type.
	var found jose.JSONWebKey
	n := 0
	for _, k := range ks.all {
		if checkKey(k, alg) == nil {
			found, n = k, n+1
		}
	}
	return found, n == 1
}

// checkKey refuses a key whose declared alg or type does not fit alg: an
// RSA key is never used for an EC or HMAC algorithm and vice versa.
func checkKey(k jose.JSONWebKey, alg jose.SignatureAlgorithm) error {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return reject(ErrAlgorithm, "key %q is for %s, token says %s", k.KeyID, k.Algorithm, alg)
	}
	ok := false
	switch k.Key.(type) {
	case *rsa.PublicKey:
		ok = strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		ok = strings.HasPrefix(string(alg), "ES")
	case ed25519.PublicKey:
		ok = alg == jose.EdDSA
	}
	if !ok {
		return reject(ErrAlgorithm, "key %q (%T) cannot verify %s", k.KeyID, k.Key, alg)
	}
	return nil
}

// refreshAged fetches the JWKS in the background (one at a time, at most
// once per refresh interval) because ks is older than the key max age;
// callers keep verifying with ks meanwhile, and after a failed fetch.
func (v *JWTVerifier) refreshAged(ks *keySet, now time.Time) {
	next := now.Add(max(v.o.minRefresh, time.Second)).UnixNano()
	old := v.nextAged.Load()
	if now.UnixNano() < old || !v.nextAged.CompareAndSwap(old, next) || v.closed.Load() {
		return
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		ctx, cancel := context.WithTimeout(v.base, 30*time.Second)
		defer cancel()
		v.refresh(ctx, ks)
	}()
}

// refresh fetches the JWKS unless another caller did since seen was
// loaded, or the last fetch was less than the refresh interval ago.
func (v *JWTVerifier) refresh(ctx context.Context, seen *keySet) (*keySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur := v.keys.Load(); cur != seen {
		return cur, nil // someone else refreshed meanwhile
	}
	now := v.o.now()
	if seen != nil && now.Sub(v.lastRefresh) < v.o.minRefresh {
		v.limited.Add(1)
		return seen, nil
	}
	ks, err := v.fetch(ctx)
	v.health.Observe(err)
	if err != nil {
		if seen != nil {
			v.o.logger.LogAttrs(ctx, slog.LevelWarn, "auth: JWKS refresh failed", slog.String("issuer", v.issuer), slog.Any("error", err))
			return seen, nil
		}
		return nil, err
	}
	v.lastRefresh = now
	ks.fetched = now
	v.keys.Store(ks)
	return ks, nil
}

func (v *JWTVerifier) fetch(ctx context.Context) (*keySet, error) {
	if v.md == nil {
		md, err := Discover(ctx, v.o.client, v.issuer)
		if err != nil {
			return nil, err
		}
		if md.JWKSURI == "" {
			return nil, fmt.Errorf("%w: issuer %s has no jwks_uri", ErrUnavailable, v.issuer)
		}
		v.md = md
	}
	var set jose.JSONWebKeySet
	v.refreshes.Add(1)
	if err := getJSON(ctx, v.o.client, v.md.JWKSURI, &set); err != nil {
		return nil, err
	}
	ks := &keySet{byKid: make(map[string]jose.JSONWebKey)}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" || !k.IsPublic() {
			continue
		}
		ks.all = append(ks.all, k)
		if k.KeyID != "" {
			ks.byKid[k.KeyID] = k
		}
	}
	return ks, nil
}

// Check reports the health of the JWKS endpoint: nil once keys were
// fetched and the last fetch succeeded; with no keys yet it fetches them.
func (v *JWTVerifier) Check(ctx context.Context) error {
	if v.closed.Load() {
		return ErrClosed
	}
	if v.keys.Load() == nil {
		if _, err := v.refresh(ctx, nil); err != nil {
			return err
		}
	}
	return v.health.Check(ctx, ErrUnavailable)
}

// Close stops the verifier (cancelling a background JWKS fetch and
// waiting for it); Verify then returns ErrClosed. Idempotent.
func (v *JWTVerifier) Close() error {
	v.closed.Store(true)
	v.stop()
	v.wg.Wait()
	v.o.release()
	return nil
}

// Shutdown is Close: a background fetch is cancelled, not waited for.
func (v *JWTVerifier) Shutdown(context.Context) error { return v.Close() }

// As reaches the *http.Client the verifier uses.
func (v *JWTVerifier) As(i any) bool {
	if p, ok := i.(**http.Client); ok {
		*p = v.o.client
		return true
	}
	return false
}
