package discovery

import (
	"log/slog"
	"time"
)

// Option configures what this package makes: a Registry (New, NewMemory,
// Open), a Registrar (NewRegistrar) and a Cache (NewCache) all take the one
// Option type, so that an idea has one option name across the package
// (WithLogger, WithRetry, WithClock, WithService). An option that does not
// concern the value being made is ignored by it: WithMaxStale means nothing
// to a Registry, WithHook nothing to a Cache (whose reads come from memory).
type Option func(*options)

type options struct {
	// Registry.
	hooks         []Hook
	watchInterval time.Duration

	// Shared.
	logger             *slog.Logger
	retryMin, retryMax time.Duration
	retrySet           bool
	now                func() time.Time
	service            identity

	// Registrar.
	ttl, interval time.Duration

	// Cache.
	maxStale, idle time.Duration
}

// identity is what WithService says of the local service.
type identity struct{ name, version, instance string }

// WithLogger sets where a Registry's watches and a Registrar log their
// failures and recoveries (at Warn and Info); by default nothing is
// logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRetry sets the backoff of background work after a backend failure —
// a Registry's watches, a Registrar's registration attempts: the first
// retry waits about min, each next one twice as long, capped at max, with
// jitter. The defaults: 100 ms to 15 s for watches (a registry that is
// down costs each watch at most one request every 7.5 to 15 s), 100 ms to
// the heartbeat interval for a Registrar.
func WithRetry(min, max time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax, o.retrySet = min, max, true }
}

// WithClock sets the clock that ages a Cache's answers and dates health
// failures, so that tests advance time instead of sleeping (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithService names the local service, in the shape every go-os package
// accepts (log, trace, metrics): a Registrar fills in what its Service
// leaves empty — the name, the version, and the ID of its only node from
// instance — and refuses a Service that says otherwise. A Registry and a
// Cache ignore it.
func WithService(name, version, instance string) Option {
	return func(o *options) { o.service = identity{name, version, instance} }
}

// WithWatchInterval sets the shortest time between two queries of one
// watch (default 10 ms), so that a service that changes all the time costs
// a bounded request rate; changes in between arrive together.
func WithWatchInterval(d time.Duration) Option {
	return func(o *options) { o.watchInterval = d }
}

// WithRegistrarTTL sets the TTL of a Registrar's registration (default
// 30 s): a node whose process dies without Close leaves lookups within it.
// 0 registers without TTL (and heartbeats only to re-register after a
// loss).
func WithRegistrarTTL(ttl time.Duration) Option {
	return func(o *options) { o.ttl = ttl }
}

// WithHeartbeat sets the interval between a Registrar's heartbeats
// (default TTL/3, or 30 s without TTL). It must be shorter than the TTL.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) { o.interval = d }
}

// WithMaxStale sets how old an answer a Cache serves while the registry
// fails: past it, lookups (and Check) return ErrStale wrapping the
// registry's error. 0, the default, serves the last answer for as long as
// the registry fails.
func WithMaxStale(d time.Duration) Option { return func(o *options) { o.maxStale = d } }

// WithIdleTimeout makes a Cache stop watching a service that was not
// looked up for about d (between d and 2d), so that a long-lived cache
// watches only the services in use; the next lookup starts the watch
// again. 0, the default, watches every service looked up until Close.
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idle = d } }

func collect(opts []Option) options {
	o := options{watchInterval: 10 * time.Millisecond, ttl: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}

// backoffRange returns the retry range, defaults filled in.
func (o *options) backoffRange(defMin, defMax time.Duration) (time.Duration, time.Duration) {
	lo, hi := defMin, defMax
	if o.retrySet {
		if o.retryMin > 0 {
			lo = o.retryMin
		}
		if o.retryMax > 0 {
			hi = o.retryMax
		}
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}
