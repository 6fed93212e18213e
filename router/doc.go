// Package router is client-side load balancing: it sits on discovery and
// picks the node for every request to a service, so that clients connect
// to nodes directly, with no proxy in between. It records stats for every
// request, ejects failing nodes, throttles a failing service, limits
// rates and concurrency, and retries within a budget.
//
//	reg, _ := discovery.Open(ctx, os.Getenv("DISCOVERY_URL")) // or router.Open(ctx, url)
//	r := router.New(reg, router.WithStrategy(router.P2C()),
//		router.WithRetryPolicy(router.Retry{Attempts: 3}))
//	defer r.Close()
//
//	// Through an http.Client: http://service-name/... goes to a node.
//	client := &http.Client{Transport: router.Transport(nil, r)}
//	resp, err := client.Get("http://greeter/hello")
//
//	// Or by hand, with any protocol: report every outcome with Done.
//	p, err := r.Pick(ctx, "greeter", "")
//	start := time.Now()
//	err = call(p.Node.Address)
//	p.Done(err, time.Since(start))
//
// # Backends
//
// The router reads nodes through a Resolver: any discovery.Registry
// (discovery.NewMemory, mem://; discovery/consuldiscovery, consul://), or
// a discovery cache. It follows each service with a watch and keeps
// routing to the last nodes it knew while discovery is down. Open takes a
// discovery URL with the router's own parameters (strategy=, version=,
// label=, zone=, panic=).
//
// A Strategy builds an immutable Picker whenever the set of routable
// nodes changes (grpc-go's balancer model), so a pick never blocks and
// never allocates: RoundRobin, Random, LeastOutstanding, P2C (power of two
// choices over a latency EWMA; the default), Weighted (metadata "weight")
// and ConsistentHash (on a request key, for shard-aware routing). Filters
// (WithVersion, WithLabels, WithFilter) and PreferZone choose which nodes
// the picker sees. The conformance suites in router/routertest check
// routing over every discovery backend (Run) and any Strategy
// (RunStrategy).
//
// Around the pick: per node, outlier ejection (Ejection: consecutive
// failures or error rate, growing back-off, half-open readmission); per
// service, adaptive throttling (Throttle, Google SRE style), a token
// bucket (Limiter, WithRateLimit) and a concurrency limit
// (WithMaxConcurrent); per call, Do retries on another node within a
// retry budget (Retry), optionally hedging slow calls (Retry.HedgeAfter).
// Stats are readable with Stats and published on an interval to a Sink
// (WithSink): MemorySink, or router/routermetrics for the metrics package
// (statsd, Prometheus). Transport is the net/http client side; Shed is the
// server side's load shedding (func(http.Handler) http.Handler: 429 over a
// rate, 503 over a concurrency limit), named for what it does; and
// router/routergrpc does the same for gRPC. Transport leaves alone every
// host that is not a service name (a name with a dot, an IP literal,
// localhost, a host with a port, or any host outside the allow-list it is
// given): the rule discovery.Transport follows too, so one http.Client
// reaches services and outside hosts.
//
// # Client-side wrapper order
//
// The canonical order of an outbound call: trace → metrics → log → auth →
// router → base transport:
//
//	base := router.Transport(http.DefaultTransport, r)
//	client := &http.Client{Transport: tracing(metrics(logging(auth(base))))}
//
// The router is innermost: the span name, the metrics' route label and the
// access log are then the logical service (http://greeter/hello), not the
// node address the router picked, a retry on another node stays inside one
// span and one count, and auth's header is set once, before the router
// copies the request per attempt.
//
// # Health and lifecycle
//
// Check(ctx) reports, from memory, the discovery health of every service
// the router follows: nil, or one error per failing service (joined) that
// wraps ErrUnavailable with discovery's last failure and its age, or
// ErrAllEjected; ErrClosed after Close. While discovery fails the router
// keeps routing to the last nodes it knew: Check says so, picks do not
// fail. Shutdown(ctx) stops its goroutines within ctx and publishes the
// stats once more; Close is Shutdown bounded by lifecycle's 5 s; both are
// idempotent.
//
// WithRetryPolicy(Retry) is the per-request retry policy (attempts,
// budget, hedging); it is not WithRetry, which across go-os names the
// min/max backoff of background work.
//
// # Errors
//
// Pick and Do return an *Error naming the service, which wraps
// ErrNoNodes, ErrAllEjected, ErrThrottled, ErrRateLimited,
// ErrConcurrencyLimited, ErrUnavailable (discovery failed before any node
// was known) or ErrClosed, or from Do the last attempt's own error. Test
// them with errors.Is, against the sentinel or its oserr class:
// ErrNoNodes, ErrAllEjected and ErrUnavailable are oserr.Unavailable, the
// three limits oserr.Limited, ErrClosed oserr.Closed. Local tells the
// router's refusals (never worth retrying elsewhere) from a node's
// failures.
//
// # Concurrency
//
// A Router is safe for concurrent use. Only the first Pick of a service
// waits, within its ctx, for discovery's first answer; after it picks
// never block and Done never blocks, and neither allocates (0 allocs per
// Pick+Done, see the benchmarks). Pickers are immutable and must be safe
// for concurrent use. A Router owns a goroutine plus one watch per
// service; Shutdown or Close stops them all, publishes the stats once
// more, and makes later picks fail with ErrClosed.
package router
