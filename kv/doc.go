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
//     memory, each owning the keys a ketama ring gives it and asking the
//     owner over HTTP for the rest.
//
// A backend implements Driver; New puts the portable Store in front of it,
// so that key validation (ValidateKey), namespacing (WithNamespace),
// use-after-Close and observers (WithObserver) are the same code on every
// backend. The conformance suite kv/kvtest is the specification every
// backend passes.
//
// kv/kvmetrics records every call (op, result, latency) on the metrics
// package through WithObserver.
//
// # Errors
//
// Every error wraps one of ErrNotFound, ErrExists, ErrConflict,
// ErrInvalidKey, ErrInvalidItem, ErrCorrupt, ErrTooLarge, ErrClosed or
// ErrUnavailable, or is the caller's own context.Canceled: test them with
// errors.Is. A call the caller cancelled is never ErrUnavailable; a
// deadline that passed while waiting on the backend is (and wraps
// context.DeadlineExceeded too). Failed calls return an *OpError naming
// the operation and key; the backend's own error stays reachable with
// errors.As. A miss is the bare ErrNotFound, so that it costs nothing.
//
// # Concurrency
//
// Stores are safe for concurrent use. Every call honours its ctx: with a
// backend down or hung, a call returns by its deadline with ErrUnavailable
// (memcachekv is the exception: gomemcache takes no ctx, so a call is
// bounded by the client's timeout). Close may run concurrently with calls:
// it refuses new ones (ErrClosed), waits for those in flight, then
// releases the backend.
package kv
