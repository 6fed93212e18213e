package config

import (
	"context"
	"net/http"

	"github.com/microos/go-os/internal/httpwrap"
)

type snapshotKey struct{}

// Middleware wraps every request: it puts the Config's current Snapshot in
// the request's context, so that everything serving one request reads one
// version of the configuration, even if a reload lands half-way
// (FromContext reads it).
//
// It copies the request, so it joins the route slot the other go-os
// wrappers share: the route the mux matched reaches the metrics, trace and
// log wrappers around it whatever the order. Its canonical place is
// innermost, just outside the mux (see the package doc).
func Middleware(c *Config) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(NewContext(httpwrap.WithRouteSlot(r.Context()), c.Snapshot()))
			// The mux sets the pattern on the request it was handed (this
			// copy); hand it on to the slot, even if the handler panics.
			defer httpwrap.Route(r)
			next.ServeHTTP(w, r)
		})
	}
}

// NewContext returns ctx carrying snap, for FromContext.
func NewContext(ctx context.Context, snap *Snapshot) context.Context {
	return context.WithValue(ctx, snapshotKey{}, snap)
}

// FromContext returns the Snapshot that Middleware (or configgrpc's
// interceptors, or NewContext) put in ctx, or nil.
func FromContext(ctx context.Context) *Snapshot {
	s, _ := ctx.Value(snapshotKey{}).(*Snapshot)
	return s
}
