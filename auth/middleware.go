package auth

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/microos/go-os/internal/httpwrap"
)

// WithQueryToken lets Middleware accept a token in the access_token query
// parameter (RFC 6750 §2.3). Off by default: URLs end up in logs.
func WithQueryToken(on bool) Option { return func(o *options) { o.queryToken = on } }

// WithRoutes gives Middleware the mux it guards (an *http.ServeMux), so
// that it knows a request's route before the mux runs: a request it
// refuses (401, 403, 503) is then recorded by the wrappers outside it
// (metrics, log, trace) under its route instead of as unmatched. What the
// policy matches is unchanged.
func WithRoutes(mux interface {
	Handler(*http.Request) (http.Handler, string)
}) Option {
	return func(o *options) { o.routes = mux }
}

// WithRealm sets the realm of WWW-Authenticate challenges.
func WithRealm(realm string) Option { return func(o *options) { o.realm = realm } }

// WithServiceName names the service for policy rules (Request.Service).
func WithServiceName(name string) Option { return func(o *options) { o.service = name } }

// Middleware authenticates every request with verifier and authorizes it
// with policy (nil: any valid token passes). A missing or invalid token is
// answered 401 with a WWW-Authenticate challenge (RFC 6750: no error code
// when no token was sent, invalid_token otherwise), a token in the query
// string 400 invalid_request unless WithQueryToken, a policy denial 403
// insufficient_scope, an unreachable authorization server 503 (fail
// closed). The handler finds the claims with ClaimsFrom. The policy sees
// the matched route when an inner wrapper or the mux set it already,
// else the path. Middleware joins the route slot of go-os wrappers.
func Middleware(verifier Verifier, policy *Policy, opts ...Option) func(http.Handler) http.Handler {
	o := newOptions(opts)
	realm := ""
	if o.realm != "" {
		realm = `realm="` + strings.ReplaceAll(o.realm, `"`, "") + `", `
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route := httpwrap.Route(r) // what the policy sees: set by an inner wrapper or the mux, else the path
			if route == "" {
				route = r.URL.Path
			}
			if o.routes != nil {
				_, pattern := o.routes.Handler(r)
				httpwrap.SetRoute(r.Context(), pattern)
			}
			challenge := func(status int, code, desc string) {
				v := "Bearer " + strings.TrimSuffix(realm, ", ")
				if code != "" {
					v = "Bearer " + realm + `error="` + code + `", error_description="` + strings.ReplaceAll(desc, `"`, "'") + `"`
				}
				w.Header().Set("WWW-Authenticate", strings.TrimSpace(v))
				http.Error(w, http.StatusText(status), status)
			}
			token, ok := BearerToken(r.Header.Get("Authorization"))
			if q := r.URL.Query().Get("access_token"); q != "" {
				if !o.queryToken || ok {
					challenge(http.StatusBadRequest, "invalid_request", "token in query string refused")
					return
				}
				token, ok = q, true
			}
			if !ok {
				challenge(http.StatusUnauthorized, "", "")
				return
			}
			claims, err := verifier.Verify(r.Context(), token)
			if err != nil {
				if errors.Is(err, ErrInvalidToken) {
					o.logger.LogAttrs(r.Context(), slog.LevelInfo, "auth: token rejected", slog.String("reason", Reason(err)))
					challenge(http.StatusUnauthorized, "invalid_token", Reason(err))
					return
				}
				o.logger.LogAttrs(r.Context(), slog.LevelWarn, "auth: cannot verify token", slog.Any("error", err))
				http.Error(w, "authorization server unavailable", http.StatusServiceUnavailable)
				return
			}
			ctx := httpwrap.WithRouteSlot(NewContext(r.Context(), claims))
			r = r.WithContext(ctx)
			if policy != nil {
				d := policy.Decide(Request{Service: o.service, Method: r.Method, Route: route}, claims)
				if !d.Allow {
					o.logger.LogAttrs(ctx, slog.LevelInfo, "auth: denied by policy", slog.String("reason", d.Reason), slog.String("client_id", claims.ClientID), slog.String("sub", claims.Subject))
					challenge(http.StatusForbidden, "insufficient_scope", d.Reason)
					return
				}
			}
			// The mux sets the pattern on this copy of the request: hand it
			// to the route slot for the wrappers outside, even on a panic.
			defer httpwrap.Route(r)
			next.ServeHTTP(w, r)
		})
	}
}

// BearerToken extracts the token of an "Authorization: Bearer <token>"
// value (the scheme in any case), for HTTP headers and gRPC metadata alike.
func BearerToken(h string) (string, bool) {
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	return t, t != ""
}

// Reason is the message of err's rejection reason ("token expired"),
// without the details that would help an attacker more than the client:
// what Middleware and the authgrpc interceptors tell the caller.
func Reason(err error) string {
	for _, r := range []error{ErrMissing, ErrMalformed, ErrAlgorithm, ErrType, ErrUnknownKey, ErrSignature, ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid, ErrInactive, ErrRevoked} {
		if errors.Is(err, r) {
			return strings.TrimPrefix(r.Error(), "auth: ")
		}
	}
	return "invalid token"
}
