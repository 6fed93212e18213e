package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Revoker revokes tokens this service holds at the issuer's RFC 7009
// revocation endpoint (authenticated with WithClient) and drops them at
// once from the given introspection caches of this instance; with
// WithRevokeNotify (auth/authevent.Notify) every other instance is told
// to drop them too.
type Revoker struct {
	o      options
	issuer string
	caches []*IntrospectionVerifier
}

// NewRevoker returns a revoker for issuer that also forgets revoked
// tokens in caches.
func NewRevoker(issuer string, caches []*IntrospectionVerifier, opts ...Option) *Revoker {
	return &Revoker{o: newOptions(opts), issuer: issuer, caches: caches}
}

// Close drops the idle connections of the revoker's own HTTP client.
func (r *Revoker) Close() error {
	r.o.release()
	return nil
}

func (r *Revoker) forget(token string) {
	for _, c := range r.caches {
		c.Forget(token)
	}
}

// WithRevokeNotify makes Revoker call notify with the TokenHash of every
// token it revoked at the issuer, to tell the other instances
// (auth/authevent.Notify publishes auth.revoked). An error of notify is
// returned by Revoke, wrapping ErrUnavailable.
func WithRevokeNotify(notify func(ctx context.Context, tokenHash string) error) Option {
	return func(o *options) { o.notify = notify }
}

// Revoke revokes token (hint "access_token" or "refresh_token", or "").
// The local caches drop it before the issuer is called, so a failed call
// never leaves it cached here.
func (r *Revoker) Revoke(ctx context.Context, token, hint string) error {
	r.forget(token)
	md, err := Discover(ctx, r.o.client, r.issuer)
	if err != nil {
		return err
	}
	if md.RevocationEndpoint == "" {
		return fmt.Errorf("%w: issuer %s has no revocation_endpoint", ErrUnavailable, r.issuer)
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.o.clientID), url.QueryEscape(r.o.clientSecret))
	resp, err := r.o.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: revocation: %w", ErrUnavailable, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		// Again: a verification in flight during the call may have
		// cached the token meanwhile.
		r.forget(token)
		if r.o.notify != nil {
			if err := r.o.notify(ctx, TokenHash(token)); err != nil {
				return fmt.Errorf("%w: revoked at the issuer, but the other instances were not told: %w", ErrUnavailable, err)
			}
		}
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: revocation refused: status %d", ErrForbidden, resp.StatusCode)
	}
	return fmt.Errorf("%w: revocation: status %d", ErrUnavailable, resp.StatusCode)
}
