// Package kv is a small, fast key-value store shared by the instances of a
// service: sessions, feature flags, rate-limit counters, cached lookups.
//
//	store, err := kv.Open(ctx, os.Getenv("KV_URL")) // "mem://", "redis://127.0.0.1:6379/0", ...
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//
//	err = store.Set(ctx, kv.Item{Key: "user:1", Value: []byte("ada"), TTL: time.Hour})
//	it, err := store.Get(ctx, "user:1")
//	switch {
//	case errors.Is(err, kv.ErrNotFound): // missing
//	case errors.Is(err, kv.ErrUnavailable): // the backend is down: not the same thing
//	}
//	it.Value = append(it.Value, '!')
//	err = store.CompareAndSwap(ctx, it) // kv.ErrConflict if someone wrote in between
//
// # Backends
//
//   - NewMemory (mem://): complete, in-process; for tests and the embedded
//     default. WithClock gives it a fake clock.
//   - kv/rediskv (redis://, rediss://, redis+cluster://): go-redis v9,
//     standalone or Redis Cluster.
//   - kv/memcachekv (memcache://): gomemcache over several servers with
//     ketama consistent hashing.
//   - kv/ringkv: no server at all: the instances of a service pool their
//     memory into one store, N copies of each key (default 2) on a ring of
//     virtual nodes, members from discovery, keys handed off on a join or
//     a leave, memory bounded by an LRU.
//
// A backend implements Driver; New puts the portable Store in front of it,
// so that key validation (ValidateKey), namespacing (WithNamespace),
// use-after-Close, the health check and hooks are the same code on every
// backend. The conformance suite kv/kvtest is the specification every
// backend passes. Store.As reaches the backend's client when a Driver
// offers one (Aser): a *redis.Client, *redis.ClusterClient or
// redis.UniversalClient for rediskv, a *memcache.Client for memcachekv:
//
//	var rc redis.UniversalClient
//	if store.As(&rc) { rc.Publish(ctx, "events", "x") }
//
// Open refuses a URL parameter it does not know, on every scheme.
//
// # Hooks, health and lifecycle
//
// A Hook wraps every call (go-redis v9 ProcessHook style): kv/kvtrace
// starts a client span per call (db.system, db.operation), kv/kvmetrics
// records op, result and latency on the metrics package. Give them
// outermost first, in the SDK's client order: trace, then metrics, then
// your own.
//
//	store, _ := kv.Open(ctx, url, kv.WithHook(kvtrace.Hook(tracer)), kv.WithHook(kvmetrics.Hook(m)))
//
// Check(ctx) answers from the Store's own calls: nil while the latest one
// got an answer (a miss is an answer), an error of class Unavailable or
// Forbidden otherwise, with the last failure and its age; an idle Store
// pings once per Check. Shutdown(ctx) refuses new calls, waits for those
// in flight within ctx and closes the backend; Close is Shutdown bounded
// by 5 s. Both are idempotent. WithLogger gives the Store a logger for the
// backend failing, recovering, and a Shutdown cut short.
//
// # Errors
//
// Every error wraps one of ErrNotFound, ErrExists, ErrConflict,
// ErrInvalidKey, ErrInvalidItem, ErrCorrupt, ErrTooLarge, ErrClosed,
// ErrUnavailable or ErrForbidden, or is the caller's own context.Canceled:
// test them with errors.Is. Each is declared with its oserr class
// (NotFound, Exists, Conflict, Invalid, Corrupt, Closed, Unavailable,
// Forbidden), so code that handles errors of every go-os package asks
// oserr.Code(err) or errors.Is(err, oserr.Unavailable) instead. Credentials
// refused (Redis NOAUTH, WRONGPASS, NOPERM; memcached authentication) are
// ErrForbidden, not ErrUnavailable: retrying cannot help. A call the caller
// cancelled is never ErrUnavailable; a deadline that passed while waiting
// on the backend is (and wraps context.DeadlineExceeded too). Failed calls
// return an *OpError naming the operation and key; the backend's own error
// stays reachable with errors.As. A miss is the bare ErrNotFound, so that
// it costs nothing.
//
// # Concurrency
//
// Stores are safe for concurrent use, Check included. Every call honours
// its ctx: with a backend down or hung, a call returns by its deadline with
// ErrUnavailable (memcachekv is the exception: gomemcache takes no ctx, so
// a call is bounded by the client's timeout). Close and Shutdown may run
// concurrently with calls: they refuse new ones (ErrClosed), wait for those
// in flight, then release the backend. Hooks run on the caller's goroutine.
package kv
