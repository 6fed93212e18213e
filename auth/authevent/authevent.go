// Package authevent carries revocations across instances on package
// event: a Revoker made with auth.WithRevokeNotify(authevent.Notify(bus))
// publishes an auth.revoked record for every token it revokes, and
// Subscribe makes every instance's introspection caches drop it.
//
//	bus, _ := event.Open(ctx, "redis://127.0.0.1:6379/0")
//	sub, _ := authevent.Subscribe(ctx, bus, introspection)
//	defer sub.Stop()
//	revoker := auth.NewRevoker(issuer, []*auth.IntrospectionVerifier{introspection},
//		auth.WithClient(id, secret), auth.WithRevokeNotify(authevent.Notify(bus)))
//
// A record names the token by auth.TokenHash, never the token itself: the
// event log is durable and readable by every subscriber. Every instance
// subscribes in broadcast (each sees every record) from now: a cache
// started later holds nothing revoked before it, since it introspects
// afresh.
package authevent

import (
	"context"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/event"
)

// Type is the event type of a revocation.
const Type = "auth.revoked"

// Revoked is the record's data.
type Revoked struct {
	TokenHash string `json:"token_sha256"`
}

// Notify returns the function auth.WithRevokeNotify takes: it publishes
// a Revoked record on bus.
func Notify(bus *event.Bus) func(ctx context.Context, tokenHash string) error {
	return func(ctx context.Context, tokenHash string) error {
		_, err := event.PublishJSON(ctx, bus, Type, Revoked{TokenHash: tokenHash})
		return err
	}
}

// Subscribe drops every token revoked in any instance from caches, until
// the subscription is stopped.
func Subscribe(ctx context.Context, bus *event.Bus, caches ...*auth.IntrospectionVerifier) (*event.Subscription, error) {
	return bus.Subscribe(ctx, func(_ context.Context, rec event.Record) error {
		r, err := event.Decode[Revoked](rec)
		if err != nil || r.TokenHash == "" {
			return nil // not ours to redeliver: nothing to drop
		}
		for _, c := range caches {
			c.ForgetHash(r.TokenHash)
		}
		return nil
	}, event.SubscribeOptions{Types: []string{Type}, Start: event.FromNow})
}
