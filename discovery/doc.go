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
//	// Stay registered (heartbeats, retries, re-registration) until Close deregisters.
//	me := &discovery.Service{Name: "billing", Version: "1.4.2",
//		Nodes: []*discovery.Node{{ID: "billing-" + uuid, Address: "10.0.0.7", Port: 8080}}}
//	registrar, err := discovery.NewRegistrar(reg, me, discovery.WithRegistrarTTL(15*time.Second))
//	defer registrar.Close()
//
//	// Look others up from memory; a watch keeps the answer fresh.
//	cache := discovery.NewCache(reg, discovery.WithMaxStale(10*time.Minute))
//	defer cache.Close()
//	services, err := cache.GetService(ctx, "payments") // []*Service, one per version
//	nodes := discovery.Nodes(services)
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
// registry lost it, reports its State, deregisters on Close); Cache answers
// GetService from memory (a hit: tens of nanoseconds, no allocation) and
// Lookup tells how stale an answer is while the registry fails; Transport
// sends HTTP requests for http://service-name/ to a node of the service.
//
// # Errors
//
// Every error wraps one of ErrNotFound, ErrInvalidService, ErrUnavailable,
// ErrForbidden, ErrClosed or ErrStale: test them with errors.Is. Failed
// calls return an *OpError naming the operation and service; the backend's
// own error stays reachable with errors.As. A service without live nodes is
// the bare ErrNotFound, so that it costs nothing.
//
// # Concurrency
//
// Registries, caches and registrars are safe for concurrent use. Every call
// that may do I/O honours its ctx: with a backend down it returns by its
// deadline with ErrUnavailable. Watches, caches and registrars own
// goroutines; Close (or cancelling a watch's ctx) ends them all before it
// returns. Services and nodes returned by reads and events are shared
// snapshots: read them, never modify them (Clone makes a private copy).
package discovery
