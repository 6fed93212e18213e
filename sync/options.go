package sync

import (
	"log/slog"
	"time"
)

// Option configures a Client (given to New or Open) or one call (given to
// Lock, TryLock or Campaign, where it overrides the Client's).
type Option func(*options)

type options struct {
	logger    *slog.Logger
	now       func() time.Time
	ttl       time.Duration
	every     time.Duration // 0: ttl/3
	margin    time.Duration // 0: ttl/10
	retryMin  time.Duration
	retryMax  time.Duration
	lockDelay time.Duration
	value     []byte
	poll      time.Duration
	fake      bool // now is not time.Now: re-read it often
}

// Defaults.
const (
	DefaultTTL      = 15 * time.Second
	DefaultRetryMin = 10 * time.Millisecond
	DefaultRetryMax = time.Second
	DefaultPoll     = time.Second
)

func defaults() options {
	return options{
		logger:    slog.New(slog.DiscardHandler),
		now:       time.Now,
		ttl:       DefaultTTL,
		retryMin:  DefaultRetryMin,
		retryMax:  DefaultRetryMax,
		poll:      DefaultPoll,
		lockDelay: -1,
	}
}

func (o options) with(opts []Option) options {
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// renewEvery is how long after a successful renewal the next one starts.
func (o options) renewEvery() time.Duration {
	if o.every > 0 {
		return o.every
	}
	return o.ttl / 3
}

// lossMargin is how long before the TTL (counted from when the last
// successful renewal was sent) the holder gives the lease up: the time it
// has to stop acting before another client can get the lock, and room for
// the backend's clock to run a little faster than ours.
func (o options) lossMargin() time.Duration {
	if o.margin > 0 {
		return o.margin
	}
	return o.ttl / 10
}

// WithLogger sets where renewal failures and losses are logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock the Client measures TTLs with, and the memory
// backend's clock, so that tests advance time instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now, o.fake = now, true
		}
	}
}

// WithTTL sets how long a lock lives without renewal (default 15 s). On
// Consul the minimum is 10 s, and Consul itself invalidates a session only
// after up to twice its TTL.
func WithTTL(ttl time.Duration) Option { return func(o *options) { o.ttl = ttl } }

// WithRenewEvery sets the interval between renewals (default TTL/3, with
// 0-20% jitter taken off so that holders do not renew in step).
func WithRenewEvery(d time.Duration) Option { return func(o *options) { o.every = d } }

// WithLossMargin sets how long before the TTL runs out, counted from when
// the last confirmed renewal was sent, the lease is declared lost when
// renewals keep failing (default TTL/10).
func WithLossMargin(d time.Duration) Option { return func(o *options) { o.margin = d } }

// WithRetry sets the backoff between attempts of a blocking Lock or
// Campaign, and between failed renewals (default 10 ms to 1 s, capped
// exponential with jitter).
func WithRetry(min, max time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax = min, max }
}

// WithLockDelay sets Consul's lock-delay: after a holder's session is
// invalidated (not after an Unlock), nobody can take the lock for this
// long. Consul's default is 15 s; 0 turns it off. Other backends ignore it.
func WithLockDelay(d time.Duration) Option { return func(o *options) { o.lockDelay = d } }

// WithValue sets the holder's metadata, readable by others through Holder.
func WithValue(v []byte) Option { return func(o *options) { o.value = v } }

// WithPollEvery sets how often Observe asks a backend that cannot wait for
// a change (Redis, memory) who leads (default 1 s).
func WithPollEvery(d time.Duration) Option { return func(o *options) { o.poll = d } }

func (o options) validate() error {
	switch {
	case o.ttl <= 0:
		return Wrap(ErrInvalid, errf("TTL %s is not positive", o.ttl))
	case o.renewEvery() >= o.ttl-o.lossMargin():
		return Wrap(ErrInvalid, errf("renewal every %s does not fit in TTL %s minus loss margin %s", o.renewEvery(), o.ttl, o.lossMargin()))
	case o.retryMin <= 0 || o.retryMax < o.retryMin:
		return Wrap(ErrInvalid, errf("retry %s..%s", o.retryMin, o.retryMax))
	}
	return nil
}
