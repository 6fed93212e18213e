package kv

import (
	"context"
	"time"
)

// Option configures a Store.
type Option func(*options)

type options struct {
	namespace string
	observers []Observer
	now       func() time.Time
}

// WithNamespace prefixes every key with ns, so that services share one
// backend without clashing: WithNamespace("billing:") stores "user:1" as
// "billing:user:1". The prefix counts towards MaxKeyLen.
func WithNamespace(ns string) Option { return func(o *options) { o.namespace += ns } }

// Observer is told of every call when it ends: the operation ("get", "set",
// "add", "cas", "delete", "getmulti"), how many keys it touched, how long it
// took and its error. It runs on the caller's goroutine and must not block;
// metrics and tracing hook in here.
type Observer func(ctx context.Context, op string, keys int, took time.Duration, err error)

// WithObserver adds an observer. Without one a call reads no clock.
func WithObserver(obs Observer) Option {
	return func(o *options) { o.observers = append(o.observers, obs) }
}

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
