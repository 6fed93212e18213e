// Package monitor runs a service's health checks in the background and
// publishes their results, the service's status and its stats: to
// Kubernetes-style HTTP probes, a live status page, grpc.health.v1
// (monitorgrpc), Consul (consulmonitor: a node whose critical check fails
// leaves passing-only lookups, and so the router's rotation) and the
// metrics package (monitormetrics).
//
//	m := monitor.New(monitor.WithService("orders", "v1.4.0", "orders-1"),
//		monitor.WithMetrics(met),                       // request stats: the metrics snapshot
//		monitor.WithSink(consulmonitor.New(client, id))) // mirror into Consul
//	defer m.Close()
//	m.Register("redis", store, monitor.Critical())      // any value with Check(ctx) error
//	m.Register("", cfg)                                 // name from the type: "config.Config"
//	m.Register("search", monitor.HTTPGet(nil, "http://search:9200/"))
//	mux.Handle("/monitor/", m.Handler())
//
// # Checks
//
// A check is anything with Check(ctx context.Context) error — every
// long-lived go-os type has it (kv.Store, discovery.Registrar and Cache,
// router.Router, config.Config, log.Logger, metrics.Metrics,
// trace.Tracer), and CheckFunc, TCP and HTTPGet cover the rest. Each has a
// name, a description, an interval (default 10s), a timeout (default 5s),
// a max age after which its cached result counts as failing with ErrStale
// (default 3 intervals plus the timeout), flap damping (Damping(n): n
// consecutive opposite results to change state once it has one) and is
// critical or not.
//
// A run that outlives its timeout is reported as ErrTimeout; one that
// panics as ErrPanic (with the stack in the log), never crashing the
// process. A check that ignores its ctx keeps its goroutine until it
// returns, and no second call is started meanwhile: later runs report it
// still hung.
//
// The status is starting (a check has no result yet), running, degraded
// (a non-critical check fails), unhealthy (a critical check fails) or
// stopping (Shutdown called); each transition is kept with its time (from
// WithClock).
//
// Stats: the Go runtime from runtime/metrics (goroutines, heap, GC
// pauses); the process from /proc/self (CPU, RSS, open fds) — Linux only,
// elsewhere ProcessStats.Available is false; per-endpoint request count,
// errors and latency (mean, min, max, and p50/p90/p99 estimated from the
// latency histogram's buckets as Prometheus' histogram_quantile does) read
// from the metrics package's Snapshot of the series its HTTP and gRPC
// wrappers record, so there is one set of counters, not two. A Metrics
// that cannot snapshot (statsd) gives no request stats.
//
// # Endpoints
//
// Handler matches the end of the path, so it mounts under any prefix:
//
//	/health/live   200 while the process serves HTTP (liveness)
//	/health/ready  200 when every critical check passes with a fresh
//	               result, else 503 listing the failures (readiness).
//	               Cached results only: about 160 ns, 0 allocations.
//	/status        the Report as JSON: status, transitions, every check
//	               with its last result, duration, age, error and history,
//	               stats, sinks and the sections of WithSection
//	anything else  the status page: one HTML document, no external
//	               assets, inline SVG charts, refreshing itself from
//	               /status every second
//
// WithSection adds the views only the service has (router per-node stats,
// the discovery view of its dependencies, config source status) to
// /status and the page.
//
// # Sinks
//
// Every publish interval (WithPublishInterval, default 10s) each sink gets
// the Report from a goroutine of its own; a failing sink is retried with
// capped exponential backoff and jitter (WithRetry) and shows in
// Monitor.Check (ErrSink) and on the page, never delaying the checks or
// the other sinks. MemorySink is for tests; consulmonitor mirrors each
// check as a Consul TTL check on the service's registration;
// monitormetrics sets gauges.
//
// # Concurrency
//
// A Monitor is safe for concurrent use. Checks run in parallel, each on
// its own schedule; the request path (Ready, Handler, monitorgrpc) reads
// cached results and never waits for a check. Shutdown marks the monitor
// stopping (readiness false), stops the loops, publishes a last report
// within ctx and waits (within ctx) for hung calls; Close is Shutdown
// bounded by lifecycle's default. No goroutine is left after either.
package monitor
