// Package discovery is how services find each other. Writes (register,
// heartbeat, deregister) go to a registry; reads come from a local Cache
// kept fresh by watches, so that lookups cost no I/O and keep working while
// the registry misbehaves.
//
//	reg, err := discovery.Open(ctx, os.Getenv("REGISTRY_URL")) // "mem://", "consul://127.0.0.1:8500", ...
//	if err != nil {
//		return err
//	}
//	defer reg.Close()
//
//	// Stay registered (heartbeats, retries, re-registration) until Shutdown deregisters.
//	me := &discovery.Service{Nodes: []*discovery.Node{{Address: "10.0.0.7", Port: 8080}}}
//	registrar, err := discovery.NewRegistrar(reg, me,
//		discovery.WithService("billing", "1.4.2", "billing-"+uuid), // the identity log, trace and metrics take too
//		discovery.WithRegistrarTTL(15*time.Second), discovery.WithLogger(logger))
//	defer registrar.Shutdown(shutdownCtx) // deregisters within the ctx
//	mux.Handle("GET /health/registry", discovery.HealthHandler(registrar))
//
//	// Look others up from memory; a watch keeps the answer fresh.
//	cache := discovery.NewCache(reg, discovery.WithMaxStale(10*time.Minute))
//	defer cache.Close()
//	services, err := cache.GetService(ctx, "payments") // []*Service, one per version
//	nodes := discovery.Nodes(services)
//
//	// Health, for a monitor: nil, or an error of class oserr.Unavailable.
//	err = cache.Check(ctx)
//
// # Backends
//
//   - NewMemory (mem://): complete, in-process, with TTL expiry and
//     watches; for tests and the embedded default. Its Fail, Stall and
//     Restart inject faults, so that caches and registrars are tested
//     against a misbehaving registry without a server.
//   - discovery/consuldiscovery (consul://host:port): Consul agent
//     registrations with a TTL check per node, health-filtered reads, and
//     watches as blocking queries.
//
// A backend implements Driver; New puts the portable Registry in front of
// it, so that validation (Validate), sorting, use-after-Close and the watch
// loop (retries with capped exponential backoff and jitter, diffing into
// Add/Update/Remove events) are the same code on every backend. The
// conformance suite discovery/discoverytest is the specification every
// backend passes; the Cache passes it too.
//
// On top of a Registry: Registrar owns a registration (heartbeats at an
// interval shorter than the TTL, retries forever, re-registers after the
// registry lost it, reports its State, deregisters on Shutdown); Cache
// answers GetService from memory (a hit: tens of nanoseconds, no
// allocation) and Lookup tells how stale an answer is while the registry
// fails; Transport sends HTTP requests for http://service-name/ to a node
// of the service, and leaves every other host alone (a name with a dot, an
// IP literal, localhost, a host with a port, or any host outside the
// services given): the rule router.Transport follows too; HealthHandler is
// an endpoint that reports a Registrar.
//
// # Options and hooks
//
// One Option type configures a Registry (New, NewMemory, Open), a
// Registrar and a Cache, so that an idea has one name: WithLogger,
// WithRetry(min, max) for the backoff of background work, WithClock,
// WithService(name, version, instance) in the shape log, trace and metrics
// take. WithHook wraps every Register, Deregister, GetService and
// ListServices call (type Hook func(next Invoker) Invoker, go-redis v9
// style), so that a span or a timer covers the whole call; WithObserver is
// built on it. As reaches the backend's client (consuldiscovery:
// **api.Client).
//
// # Health and lifecycle
//
// Registry, Registrar and Cache have Check(ctx) error: from memory (the
// registry's own calls and watches, the registrar's heartbeats, the
// cache's watches), never a round trip, nil when healthy, else an error
// wrapping ErrUnavailable (ErrForbidden for refused credentials, ErrStale
// for a cache past WithMaxStale) with the last failure and its age, or
// ErrClosed. The monitor package calls it through a one-method interface.
// Shutdown(ctx) stops their goroutines within ctx (a Registrar deregisters
// first); Close is Shutdown bounded by lifecycle's 5 s; both idempotent.
//
// # Client-side wrapper order
//
// An outbound call composes: trace → metrics → log → auth → router (or
// discovery.Transport) → base transport. Name resolution is innermost so
// that the span, the metrics' route label and the log line see the logical
// service (http://payments/...), not the node address it resolved to, and
// so that one logical call retried on another node is one span and one
// count.
//
// # Errors
//
// Every error wraps one of ErrNotFound, ErrInvalidService, ErrUnavailable,
// ErrForbidden, ErrClosed or ErrStale: test them with errors.Is, against
// the sentinel or its oserr class (NotFound, Invalid, Unavailable,
// Forbidden, Closed; ErrStale is Unavailable), so that a caller asks
// "may a retry help?" (oserr.Retryable) without knowing the package. Failed
// calls return an *OpError naming the operation and service; the backend's
// own error stays reachable with errors.As. A service without live nodes is
// the bare ErrNotFound, so that it costs nothing.
//
// # Concurrency
//
// Registries, caches and registrars are safe for concurrent use. Every call
// that may do I/O honours its ctx: with a backend down it returns by its
// deadline with ErrUnavailable. Watches, caches and registrars own
// goroutines; Shutdown or Close (or cancelling a watch's ctx) ends them
// all before it returns. Services and nodes returned by reads and events are shared
// snapshots: read them, never modify them (Clone makes a private copy).
package discovery
