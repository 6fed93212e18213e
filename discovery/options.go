package discovery

import (
	"context"
	"log/slog"
	"time"
)

// Option configures a Registry made by New, NewMemory or Open.
type Option func(*options)

type options struct {
	observers          []Observer
	logger             *slog.Logger
	retryMin, retryMax time.Duration
	watchInterval      time.Duration
}

// WithLogger sets where watches log their failures and recoveries (at Warn
// and Info); by default nothing is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Observer is told of every Register, Deregister, GetService and
// ListServices call when it ends: the operation ("register", "deregister",
// "getservice", "listservices"), the service (empty for listservices), how
// long it took and its error (ErrNotFound for a service without nodes). It
// runs on the caller's goroutine and must not block; metrics and tracing
// hook in here. Reads a Cache answers from memory do not reach it.
type Observer func(ctx context.Context, op, service string, took time.Duration, err error)

// WithObserver adds an observer. Without one a call reads no clock.
func WithObserver(obs Observer) Option {
	return func(o *options) { o.observers = append(o.observers, obs) }
}

// WithRetry sets the backoff of watches after a backend failure: the first
// retry waits about min, each next one twice as long, capped at max, with
// jitter. The default is 100 ms to 15 s: a registry that is down costs each
// watch at most one request every 7.5 to 15 s.
func WithRetry(min, max time.Duration) Option {
	return func(o *options) {
		if min > 0 {
			o.retryMin = min
		}
		if max >= o.retryMin {
			o.retryMax = max
		}
	}
}

// WithWatchInterval sets the shortest time between two queries of one
// watch (default 10 ms), so that a service that changes all the time costs
// a bounded request rate; changes in between arrive together.
func WithWatchInterval(d time.Duration) Option {
	return func(o *options) { o.watchInterval = d }
}

func collect(opts []Option) options {
	o := options{
		logger:        slog.New(slog.DiscardHandler),
		retryMin:      100 * time.Millisecond,
		retryMax:      15 * time.Second,
		watchInterval: 10 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.retryMax < o.retryMin {
		o.retryMax = o.retryMin
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}
