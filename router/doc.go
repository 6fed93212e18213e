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
// (statsd, Prometheus). Transport is the net/http client side, Middleware
// the server side; router/routergrpc does the same for gRPC.
//
// # Errors
//
// Pick and Do return an *Error naming the service, which wraps
// ErrNoNodes, ErrAllEjected, ErrThrottled, ErrRateLimited,
// ErrConcurrencyLimited, ErrUnavailable (discovery failed before any node
// was known) or ErrClosed, or from Do the last attempt's own error. Test
// them with errors.Is; Local tells the router's refusals (never worth
// retrying elsewhere) from a node's failures.
//
// # Concurrency
//
// A Router is safe for concurrent use. Only the first Pick of a service
// waits, within its ctx, for discovery's first answer; after it picks
// never block and Done never blocks, and neither allocates (0 allocs per
// Pick+Done, see the benchmarks). Pickers are immutable and must be safe
// for concurrent use. A Router owns a goroutine plus one watch per
// service; Close stops them all, publishes the stats once more, and makes
// later picks fail with ErrClosed.
package router
