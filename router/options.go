package router

import (
	"log/slog"
	"time"
)

// Option configures a Router.
type Option func(*options)

type options struct {
	strategy     Strategy
	filters      []func(*Node) bool
	zone         string
	ejection     Ejection
	panicRouting bool
	penalty      time.Duration
	throttleK    float64
	rate         float64
	burst        int
	maxInFlight  int64
	retry        Retry
	sink         Sink
	publishEvery time.Duration
	logger       *slog.Logger
	versions     []string
	labels       map[string]string
	now          func() time.Time
	manualEval   bool // tests call evaluate themselves
}

func collect(opts []Option) options {
	o := options{
		strategy:  P2C(),
		ejection:  Ejection{},
		penalty:   time.Second,
		throttleK: 2,
		retry:     Retry{Attempts: 1},
		logger:    slog.New(slog.DiscardHandler),
		now:       time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.ejection = o.ejection.withDefaults()
	o.retry = o.retry.withDefaults()
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if len(o.versions) > 0 {
		o.filters = append(o.filters, versionFilter(o.versions))
	}
	if len(o.labels) > 0 {
		o.filters = append(o.filters, labelFilter(o.labels))
	}
	return o
}

// WithStrategy sets how nodes are picked (default P2C).
func WithStrategy(s Strategy) Option { return func(o *options) { o.strategy = s } }

// WithVersion routes only to nodes of the versions given (canary or
// blue/green by version). A later WithVersion replaces an earlier one (so
// an option overrides a URL's version=); no versions routes to all.
func WithVersion(versions ...string) Option {
	return func(o *options) { o.versions = versions }
}

// WithLabels routes only to nodes whose metadata has every key=value of
// labels (canary or A/B groups by label). A later WithLabels replaces an
// earlier one.
func WithLabels(labels map[string]string) Option {
	return func(o *options) { o.labels = labels }
}

func versionFilter(versions []string) func(*Node) bool {
	return func(n *Node) bool {
		for _, v := range versions {
			if n.Version == v {
				return true
			}
		}
		return false
	}
}

func labelFilter(labels map[string]string) func(*Node) bool {
	return func(n *Node) bool {
		for k, v := range labels {
			if w, ok := n.Metadata[k]; !ok || w != v {
				return false
			}
		}
		return true
	}
}

// WithFilter routes only to nodes for which keep returns true. Filters run
// when the node set changes, never per request; several filters combine
// with AND.
func WithFilter(keep func(*Node) bool) Option {
	return func(o *options) { o.filters = append(o.filters, keep) }
}

// PreferZone routes to the nodes of zone while any of them is routable
// (registered and not ejected), and falls back to every zone otherwise.
func PreferZone(zone string) Option { return func(o *options) { o.zone = zone } }

// WithEjection sets the outlier detection (see Ejection).
func WithEjection(e Ejection) Option { return func(o *options) { o.ejection = e } }

// WithPanicRouting routes to every node, ejected or not, when all of a
// service's nodes are ejected, instead of failing with ErrAllEjected
// (Envoy's panic mode: a guess beats a certain failure).
func WithPanicRouting() Option { return func(o *options) { o.panicRouting = true } }

// WithFailurePenalty is the latency P2C charges a failed request at least
// (default 1 s), so that a node failing fast does not look fast.
func WithFailurePenalty(d time.Duration) Option { return func(o *options) { o.penalty = d } }

// WithThrottle sets the K of the per-service adaptive throttle (Google SRE
// book, "Handling Overload"): once requests exceed K × the successes of the
// last minute, the router rejects the excess locally with ErrThrottled,
// with probability (requests − K·successes) / (requests + 1). Default 2;
// 0 disables it.
func WithThrottle(k float64) Option { return func(o *options) { o.throttleK = k } }

// WithRateLimit caps each service at rate requests per second with bursts
// of burst (a token bucket); excess picks fail with ErrRateLimited. A rate
// ≤ 0 means no limit (not "allow nothing").
func WithRateLimit(rate float64, burst int) Option {
	return func(o *options) { o.rate, o.burst = rate, burst }
}

// WithMaxConcurrent caps the requests in flight to each service (picked,
// Done not yet called); excess picks fail with ErrConcurrencyLimited.
func WithMaxConcurrent(n int) Option { return func(o *options) { o.maxInFlight = int64(n) } }

// WithRetryPolicy sets how Do and Transport retry a failed request on
// another node (default: no retry). It is not named WithRetry: across
// go-os, WithRetry(min, max) is the backoff of background work, while this
// is a per-request policy (attempts, budget, hedging).
func WithRetryPolicy(r Retry) Option { return func(o *options) { o.retry = r } }

// WithSink publishes every service's Stats to sink every interval (≤ 0
// means 10 s), from the router's own goroutine (a slow sink never delays a
// request).
func WithSink(sink Sink, interval time.Duration) Option {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	return func(o *options) { o.sink, o.publishEvery = sink, interval }
}

// WithLogger sets where the router logs ejections, readmissions and
// discovery failures (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// withClock makes ejection windows use now, and leaves calling evaluate
// to the test; tests only.
func withClock(now func() time.Time) Option {
	return func(o *options) { o.now, o.manualEval = now, true }
}
