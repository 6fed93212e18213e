package config

import (
	"context"
	"net/http"
)

type snapshotKey struct{}

// Middleware puts the Config's current Snapshot in each request's context,
// so that everything serving one request reads one version of the
// configuration, even if a reload lands half-way (FromContext reads it).
func Middleware(c *Config) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c.Snapshot())))
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
