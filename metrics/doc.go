// Package metrics is the instrumentation interface of go-os: counters,
// gauges, histograms and timers with labels, on statsd (with tags and
// client-side aggregation), Prometheus, or in memory.
//
// Define metrics once, at start-up; bind their labels once with With and
// keep the result, so that the hot path is one atomic add:
//
//	m, err := metrics.Open(ctx, os.Getenv("METRICS_URL")) // "statsd://127.0.0.1:8125?tags=datadog"
//	if err != nil { ... }
//	defer m.Close() // flushes
//
//	requests := m.Counter("requests_total", metrics.Labels("route", "class"))
//	ok := requests.With("route", "/buy", "class", "2xx") // bound once
//	ok.Inc()                                             // one atomic add, no allocation
//	latency := m.Timer("buy_duration_seconds")
//	defer latency.Since(time.Now())
//
// Middleware and Transport record request counts, errors by status class
// and latency for net/http servers and clients; metricsgrpc does the same
// for gRPC, under the same names and labels (see RequestMetrics).
//
// Names are sanitised to [A-Za-z0-9_.] (dots separate the namespace, and
// become underscores on Prometheus), label keys to [A-Za-z0-9_]; label
// values are free text that each backend makes safe for its format, so a
// value can never break a line protocol. A metric keeps at most
// WithMaxSeries distinct label sets (DefaultMaxSeries): past it, new sets
// are folded into one overflow series whose labels are all OverflowValue,
// and metrics.overflow_total{metric=...} counts the label lookups (With)
// that were folded, so a label fed with user IDs cannot exhaust memory or
// the backend. (A handle bound once past the cap and recorded many times
// counts once: the count is of label sets refused, not of values.)
//
// # Backends
//
//   - Memory (NewMemory, mem://): exact values in process, histograms
//     and timers with count, sum, min, max and cumulative buckets
//     (Buckets, else DefaultBuckets), read with Snapshot. What unit tests,
//     the monitor package and the demo use.
//   - statsd (metrics/statsdmetrics, statsd://host:port?tags=influx|datadog|graphite):
//     counters and gauges summed per flush interval, histogram and timer
//     values buffered in a bounded reservoir, lines batched into packets
//     under the MTU; flushed every interval and on Close. It keeps no
//     totals and no buckets (each flush hands the values to the daemon,
//     which computes the percentiles), so it has no Snapshot.
//   - Prometheus (metrics/prometheusmetrics, prometheus:// or
//     prometheus://host:port/path): client_golang collectors exposed by an
//     http.Handler, on a registry of its own or the default one; Snapshot
//     reads the registry back, buckets included.
//
// A new backend implements Driver; New puts a Metrics in front of it, and
// metricstest.Run checks that it behaves like the others.
//
// # Errors
//
// Recording never returns an error: a metric must never cost the caller a
// branch or a failure. Mistakes (a negative counter delta, a NaN, an
// undeclared label key, a name defined twice with another kind, the series
// cap reached, a statsd daemon that refuses packets) are counted in Stats
// and handed, as an *Error wrapping one of ErrInvalidValue,
// ErrInvalidLabels, ErrRedefined, ErrOverflow or ErrUnavailable, to the
// handler set by WithErrorHandler (or logged by the WithLogger logger).
// Open and constructors return errors as usual; Snapshot returns
// ErrUnsupported on backends that only send.
//
// # Health and lifecycle
//
// Metrics.Check(ctx) says whether the backend takes what is sent
// (statsd: a daemon refusing packets is ErrUnavailable). Shutdown(ctx)
// flushes and stops within ctx; Close is Shutdown bounded by
// lifecycle.CloseTimeout; both are idempotent. A nil *Metrics and its
// instruments are no-ops. As reaches the client of the backend (the
// Prometheus http.Handler and Gatherer, the cactus statsd client) without
// a type assertion on Driver. Check(ctx) is the one health check every long-lived go-os type
// has: nil when healthy, else an error wrapping the package's sentinel (its
// oserr class answers "unavailable?", "forbidden?", "closed?") with the
// last failure and its age. It answers from what the type's own calls saw,
// never blocks past ctx, and is safe for concurrent use; the monitor
// package calls it through a one-method interface.
//
// # Wrapper order
//
// On the server side the go-os wrappers go, outermost first:
// recover → trace → metrics → log → auth → config snapshot → mux.
// The tracer first, so that the span covers everything and its ids reach
// the log lines; metrics before log, so that the time measured includes
// the logging; auth inside them, so that refused requests are still
// traced, counted and logged; the config snapshot innermost, so that the
// handler reads one version of the configuration. Every go-os wrapper that
// copies the request joins the route slot, so any order still gives the
// same route to all of them (tested over every permutation). On the client
// side: trace → metrics → log → auth → router → base transport (metrics
// outside the router, or the route label becomes a node address).
//
// # Concurrency
//
// A Metrics and every handle it returns are safe for concurrent use.
// Recording on a bound handle never blocks and never allocates; With costs
// a lock-free lookup (a lock only the first time a label set is seen).
// Backends that send do so from one background goroutine per Metrics,
// which Close stops after a last flush; Close is idempotent, and what is
// recorded after it is dropped.
package metrics
