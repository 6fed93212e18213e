package discovery

import (
	"context"
	"time"
)

// Call is one Registry call as a Hook sees it: what was asked and, once
// next returned, what came back.
type Call struct {
	// Op is "register", "deregister", "getservice" or "listservices".
	Op string
	// Service is the service's name (empty for listservices).
	Service string
	// Svc is the service registered or deregistered (nil for reads).
	// Read-only.
	Svc *Service
	// Options are Register's options.
	Options RegisterOptions
	// Services is GetService's result once next returned. Read-only.
	Services []*Service
	// Names is ListServices' result once next returned.
	Names []string
}

// Invoker performs a Registry call: the whole call (use-after-Close,
// validation, the backend), so that a hook wrapping it times all of it.
type Invoker func(ctx context.Context, call *Call) error

// Hook wraps every Register, Deregister, GetService and ListServices call
// of a Registry, go-redis v9 style: it gets the next Invoker and returns
// one that does its work around it — start a span before, record a
// duration after, change ctx. Hooks given first run outermost. A Cache's
// reads from memory do not reach the hooks of the registry behind it.
type Hook func(next Invoker) Invoker

// WithHook adds a hook to a Registry. Without hooks a call costs no
// allocation and reads no clock.
func WithHook(h Hook) Option {
	return func(o *options) {
		if h != nil {
			o.hooks = append(o.hooks, h)
		}
	}
}

// Observer is told of every Register, Deregister, GetService and
// ListServices call when it ends: the operation, the service (empty for
// listservices), how long it took and its error (ErrNotFound for a service
// without nodes). It runs on the caller's goroutine and must not block.
type Observer func(ctx context.Context, op, service string, took time.Duration, err error)

// WithObserver adds an observer, built on a Hook: the shorthand for
// metrics that need only the outcome.
func WithObserver(obs Observer) Option {
	return WithHook(func(next Invoker) Invoker {
		return func(ctx context.Context, c *Call) error {
			start := time.Now()
			err := next(ctx, c)
			obs(ctx, c.Op, c.Service, time.Since(start), err)
			return err
		}
	})
}
