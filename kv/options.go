package kv

import (
	"log/slog"
	"time"
)

// Option configures a Store.
type Option func(*options)

type options struct {
	namespace string
	hooks     []Hook
	now       func() time.Time
	logger    *slog.Logger
}

// WithNamespace prefixes every key with ns, so that services share one
// backend without clashing: WithNamespace("billing:") stores "user:1" as
// "billing:user:1". The prefix counts towards MaxKeyLen.
func WithNamespace(ns string) Option { return func(o *options) { o.namespace += ns } }

// WithLogger sets where the Store logs: a Warn when the backend starts
// failing (unavailable, credentials refused), an Info when it answers
// again, a Warn when Shutdown's deadline passes with calls in flight.
// Without it the Store logs nothing.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the clock of the memory store, so that TTL tests advance
// time instead of sleeping. Other backends expire items on the server's
// clock and ignore it.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func collect(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
