package auth

import (
	"errors"

	"github.com/microos/go-os/oserr"
)

// Sentinels. Every rejection of a token wraps ErrInvalidToken (class
// Unauthenticated) and one reason below, so that a caller can test both
// errors.Is(err, auth.ErrInvalidToken) and errors.Is(err, auth.ErrExpired).
var (
	// ErrInvalidToken: the token was rejected (missing, malformed, badly
	// signed, expired, inactive...).
	ErrInvalidToken = oserr.New(oserr.Unauthenticated, "auth: invalid token")
	// ErrForbidden: the token is valid but the policy denies the call.
	ErrForbidden = oserr.New(oserr.Forbidden, "auth: forbidden")
	// ErrUnavailable: the authorization server (discovery, JWKS,
	// introspection or token endpoint) could not be reached or answered
	// badly. Verification fails closed with it.
	ErrUnavailable = oserr.New(oserr.Unavailable, "auth: authorization server unavailable")
	// ErrClosed: the verifier or token source was closed.
	ErrClosed = oserr.New(oserr.Closed, "auth: closed")
	// ErrInvalid: a bad argument, option or URL.
	ErrInvalid = oserr.New(oserr.Invalid, "auth: invalid argument")
)

// Rejection reasons; each wraps ErrInvalidToken.
var (
	ErrMissing     error = &reason{"auth: no token"}
	ErrMalformed   error = &reason{"auth: malformed token"}
	ErrAlgorithm   error = &reason{"auth: algorithm not allowed"}
	ErrType        error = &reason{"auth: wrong token type (typ)"}
	ErrUnknownKey  error = &reason{"auth: unknown signing key"}
	ErrSignature   error = &reason{"auth: bad signature"}
	ErrIssuer      error = &reason{"auth: wrong issuer"}
	ErrAudience    error = &reason{"auth: wrong audience"}
	ErrExpired     error = &reason{"auth: token expired"}
	ErrNotYetValid error = &reason{"auth: token not yet valid"}
	ErrInactive    error = &reason{"auth: token inactive"}
	ErrRevoked     error = &reason{"auth: token revoked"}
)

type reason struct{ msg string }

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return ErrInvalidToken }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
