package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// MemoryIssuer is an in-process authorization server for tests: it serves
// discovery, JWKS, a client_credentials token endpoint, introspection
// (RFC 7662) and revocation (RFC 7009) on a loopback httptest.Server, and
// mints JWTs and opaque tokens with chosen claims and keys, so that a
// service's unit tests run the real verification path.
type MemoryIssuer struct {
	srv *httptest.Server
	now func() time.Time

	mu      sync.Mutex
	keys    []*jose.JSONWebKey // private; keys[0] signs
	opaque  map[string]map[string]any
	revoked map[string]bool
	clients map[string]memClient
	seq     int

	// Introspections counts calls to the introspection endpoint.
	Introspections atomic.Int64
	// JWKSFetches counts calls to the JWKS endpoint.
	JWKSFetches atomic.Int64
	// TokenRequests counts calls to the token endpoint.
	TokenRequests atomic.Int64
	// TokenTTL is the lifetime of tokens the token endpoint issues (an
	// hour when zero). Set it before use.
	TokenTTL time.Duration
	// FailTokens makes the token endpoint answer 503 (an outage).
	FailTokens atomic.Bool
}

type memClient struct {
	secret string
	scopes []string
}

// Token describes a token to mint. Zero fields get defaults: Issuer the
// issuer's URL, Expiry an hour from now, IssuedAt now.
type Token struct {
	Subject, ClientID string
	Scopes            []string
	Audience          []string
	Issuer            string
	Expiry, NotBefore time.Time
	IssuedAt          time.Time
	// Type is the typ header ("at+jwt" when empty; "-" for none).
	Type string
	// Extra claims.
	Extra map[string]any
}

// NewMemoryIssuer starts an issuer with one RSA signing key.
func NewMemoryIssuer(opts ...Option) *MemoryIssuer {
	o := newOptions(opts)
	m := &MemoryIssuer{now: o.now, opaque: map[string]map[string]any{}, revoked: map[string]bool{}, clients: map[string]memClient{}}
	m.RotateKey(jose.RS256)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", m.discovery)
	mux.HandleFunc("GET /jwks", m.jwks)
	mux.HandleFunc("POST /token", m.token)
	mux.HandleFunc("POST /introspect", m.introspect)
	mux.HandleFunc("POST /revoke", m.revoke)
	m.srv = httptest.NewServer(mux)
	return m
}

// URL is the issuer identifier (and base URL).
func (m *MemoryIssuer) URL() string { return m.srv.URL }

// Close stops the server.
func (m *MemoryIssuer) Close() { m.srv.Close() }

// AddClient registers a client for the token endpoint and for
// authenticating introspection and revocation calls.
func (m *MemoryIssuer) AddClient(id, secret string, scopes ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients[id] = memClient{secret, scopes}
}

// RotateKey makes a new signing key of alg (RS256 or ES256) current; the
// old keys stay in the JWKS. It returns the new key id.
func (m *MemoryIssuer) RotateKey(alg jose.SignatureAlgorithm) string {
	var k crypto.Signer
	var err error
	if alg == jose.ES256 {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		alg = jose.RS256
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		panic(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	var r [4]byte
	rand.Read(r[:])
	kid := fmt.Sprintf("mem-%x-%d", r, m.seq)
	m.keys = append([]*jose.JSONWebKey{{Key: k, KeyID: kid, Algorithm: string(alg), Use: "sig"}}, m.keys...)
	return kid
}

// ReplaceKey makes key the only signing key (an issuer that rotates keys
// under the same kid).
func (m *MemoryIssuer) ReplaceKey(key jose.JSONWebKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = []*jose.JSONWebKey{&key}
}

// DropOldKeys removes every key but the current one from the JWKS.
func (m *MemoryIssuer) DropOldKeys() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = m.keys[:1]
}

// SigningKey returns the current private key (to forge tokens in tests).
func (m *MemoryIssuer) SigningKey() jose.JSONWebKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.keys[0]
}

func (m *MemoryIssuer) claims(t Token) map[string]any {
	now := m.now()
	c := map[string]any{}
	for k, v := range t.Extra {
		c[k] = v
	}
	c["iss"] = m.srv.URL
	jti := make([]byte, 8)
	rand.Read(jti)
	c["jti"] = base64.RawURLEncoding.EncodeToString(jti)
	if t.Issuer != "" {
		c["iss"] = t.Issuer
	}
	if t.Subject != "" {
		c["sub"] = t.Subject
	}
	if t.ClientID != "" {
		c["client_id"] = t.ClientID
	}
	if len(t.Scopes) > 0 {
		c["scope"] = strings.Join(t.Scopes, " ")
	}
	if len(t.Audience) > 0 {
		c["aud"] = t.Audience
	}
	exp := t.Expiry
	if exp.IsZero() {
		exp = now.Add(time.Hour)
	}
	c["exp"] = exp.Unix()
	iat := t.IssuedAt
	if iat.IsZero() {
		iat = now
	}
	c["iat"] = iat.Unix()
	if !t.NotBefore.IsZero() {
		c["nbf"] = t.NotBefore.Unix()
	}
	return c
}

// Mint signs a JWT access token with the current key.
func (m *MemoryIssuer) Mint(t Token) string {
	return m.MintWith(m.SigningKey(), t)
}

// MintWith signs a JWT with key (any go-jose signing key, its KeyID as
// kid): a key of another issuer, an HMAC secret...
func (m *MemoryIssuer) MintWith(key jose.JSONWebKey, t Token) string {
	alg := jose.SignatureAlgorithm(key.Algorithm)
	opts := &jose.SignerOptions{}
	switch t.Type {
	case "":
		opts.WithType("at+jwt")
	case "-":
	default:
		opts.WithType(jose.ContentType(t.Type))
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		panic(err)
	}
	s, err := jwt.Signed(sig).Claims(m.claims(t)).Serialize()
	if err != nil {
		panic(err)
	}
	return s
}

// MintOpaque returns a random opaque token that introspection describes
// with t's claims.
func (m *MemoryIssuer) MintOpaque(t Token) string {
	b := make([]byte, 24)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opaque[tok] = m.claims(t)
	return tok
}

// Revoke marks token revoked, as the revocation endpoint does.
func (m *MemoryIssuer) Revoke(token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revoked[token] = true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (m *MemoryIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	u := m.srv.URL
	writeJSON(w, map[string]any{
		"issuer": u, "jwks_uri": u + "/jwks", "token_endpoint": u + "/token",
		"introspection_endpoint": u + "/introspect", "revocation_endpoint": u + "/revoke",
		"grant_types_supported": []string{"client_credentials"},
	})
}

func (m *MemoryIssuer) jwks(w http.ResponseWriter, r *http.Request) {
	m.JWKSFetches.Add(1)
	m.mu.Lock()
	var set jose.JSONWebKeySet
	for _, k := range m.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	m.mu.Unlock()
	writeJSON(w, set)
}

func (m *MemoryIssuer) client(r *http.Request) (string, memClient, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, found := m.clients[id]
	return id, c, found && c.secret == secret
}

func (m *MemoryIssuer) token(w http.ResponseWriter, r *http.Request) {
	m.TokenRequests.Add(1)
	if m.FailTokens.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	ttl := m.TokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	id, c, ok := m.client(r)
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostFormValue("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	scopes := c.scopes
	if s := r.PostFormValue("scope"); s != "" {
		scopes = strings.Fields(s)
	}
	t := Token{Subject: id, ClientID: id, Scopes: scopes, Expiry: m.now().Add(ttl)}
	if aud := r.PostFormValue("resource"); aud != "" {
		t.Audience = []string{aud}
	}
	var tok string
	if t.Audience != nil {
		tok = m.Mint(t)
	} else {
		tok = m.MintOpaque(t)
	}
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(ttl / time.Second), "scope": strings.Join(scopes, " ")})
}

func (m *MemoryIssuer) introspect(w http.ResponseWriter, r *http.Request) {
	m.Introspections.Add(1)
	if _, _, ok := m.client(r); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	tok := r.PostFormValue("token")
	m.mu.Lock()
	c, ok := m.opaque[tok]
	revoked := m.revoked[tok]
	m.mu.Unlock()
	if !ok || revoked || time.Unix(c["exp"].(int64), 0).Before(m.now()) {
		writeJSON(w, map[string]any{"active": false})
		return
	}
	out := map[string]any{"active": true, "token_type": "Bearer"}
	for k, v := range c {
		out[k] = v
	}
	writeJSON(w, out)
}

func (m *MemoryIssuer) revoke(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := m.client(r); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	m.Revoke(r.PostFormValue("token"))
	w.WriteHeader(http.StatusOK)
}
