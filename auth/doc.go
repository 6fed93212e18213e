// Package auth authenticates and authorizes service calls with OAuth2:
// outbound, a client-credentials TokenSource and Transport; inbound,
// Verifiers that turn a bearer token into Claims (JWTVerifier locally
// against the issuer's JWKS, IntrospectionVerifier by RFC 7662, Chain of
// both), a Policy engine and Middleware; Revoker (RFC 7009); and a
// MemoryIssuer, an in-process authorization server for tests. Open wires
// all of it for one issuer from a URL:
//
//	a, err := auth.Open(ctx, "mem://?client_id=orders&scope=read&audience=https://orders")
//	defer a.Close()
//	client := &http.Client{Transport: auth.Transport(nil, a.Source)}
//	policy, _ := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
//		{Method: "GET", Route: "/orders/*", Scopes: []string{"read"}}}})
//	handler = auth.Middleware(a.Verifier, policy)(mux)
//	// in a handler: auth.ClaimsFrom(r.Context()).Subject
//
// auth/authgrpc has the gRPC credentials and interceptors, auth/authtest
// the Verifier conformance suite, auth/authevent revocation across
// instances over package event.
//
// JOSE parsing and signature checks are github.com/go-jose/go-jose/v4,
// not hand-written: it is well kept, already in the module graph (through
// x/oauth2's peers), takes the allowed algorithms at parse time (so
// "none" and HS* never reach a key), and has no global key-type
// confusion: an RSA public key is never usable as an HMAC secret. auth
// uses its JWS layer (ParseSignedCompact, Verify) and decodes the
// verified payload once itself, and adds what go-jose leaves to the
// caller: JWKS discovery and caching, rate-limited refresh, a
// key-type/alg check per key, iss/aud/exp/nbf/iat with skew, and typ.
//
// # Backends
//
// mem:// (a MemoryIssuer of the process's own). Any OpenID provider with
// discovery: auth/oauth2auth registers the https (and loopback http)
// issuer URLs of Open and is tested against oidc-provider, key rotation
// and outages included.
//
// # Errors
//
// Every rejected token wraps ErrInvalidToken (oserr.Unauthenticated) and
// one reason (ErrAlgorithm, ErrIssuer, ErrAudience, ErrExpired,
// ErrNotYetValid, ErrSignature, ErrUnknownKey, ErrMalformed, ErrType,
// ErrInactive, ErrMissing). An authorization server that cannot be
// reached gives ErrUnavailable: verification fails closed. ErrForbidden
// is a policy denial or a refused client.
//
// # Concurrency
//
// Every type is safe for concurrent use. JWKS fetches, introspection of
// one token and token fetches are each one call in flight at a time.
package auth
