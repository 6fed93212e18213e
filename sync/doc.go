// Package sync is distributed locking and leader election for the
// instances of a service, with fencing tokens, background renewal and
// loss detection. Import it under another name, as ossync, to keep the
// standard library's sync:
//
//	c, err := ossync.Open(ctx, "redis://127.0.0.1:6379/0", ossync.WithTTL(10*time.Second))
//	...
//	l, err := c.Lock(ctx, "billing/nightly")
//	if err != nil { ... }
//	defer l.Unlock(ctx)
//	// Do the work in l.Context(): it is cancelled the moment the lease
//	// is known lost. Send l.Token() with every write to the guarded
//	// resource, which refuses tokens older than the newest it has seen.
//	err = store.Write(l.Context(), l.Token(), data)
//
// A Lease is renewed in the background every TTL/3 (with jitter). A
// renewal that fails is retried with backoff until the TTL, counted from
// when the last good renewal was sent, is nearly gone (TTL minus the loss
// margin, TTL/10 by default); then the lease is declared lost: Done is
// closed, Context cancelled, Err says why. The holder learns it before the
// backend frees the lock for another client. A process that pauses (GC,
// VM freeze) can still wake up and write late: the fencing token, larger
// for every new holder of a name, ever, is what lets the resource refuse
// it.
//
// Campaign, Resign, Leader and Observe run an election on the same
// primitive: the leader is the holder of the election's lock, its
// candidate value the lock's metadata. LeaderOnly serves an HTTP handler
// only on the leader.
//
// # Backends
//
//   - mem:// (NewMemory, NewMemoryBackend): in-process, complete, with a
//     clock that tests move by hand (WithClock). InjectFaults wraps any
//     driver to pause or fail a holder's renewals, or kill it.
//   - redis://, rediss://, redis+cluster:// (sync/redissync): SET NX PX
//     with an owner token and an INCR fencing counter in one Lua script;
//     one round trip per acquire, renew and release. Asynchronous
//     replication can lose a lock across a failover: see its doc.
//   - consul:// (sync/consulsync): sessions and KV locks, Raft-replicated;
//     TTL of 10 s at least, lock-delay (Consul's default 15 s) adds to
//     failover time: see its doc.
//
// Every backend runs the conformance suite sync/synctest against its real
// server, including a porcupine linearizability check of fenced holds.
//
// # Errors
//
// ErrLocked (TryLock found it held), ErrNotHeld, ErrLost (Lease.Err after a
// loss), ErrUnavailable, ErrForbidden, ErrInvalid, ErrClosed, ErrNoLeader.
// They carry oserr classes (Conflict, Unavailable, Forbidden, Invalid,
// Closed, NotFound), so oserr.Code works on them. Failed calls return an
// *OpError naming the operation and the lock. A blocking call whose ctx
// ends returns ctx's error; one cut short by Close returns ErrClosed.
//
// # Concurrency
//
// Client, Lease and Leadership are safe for concurrent use. Lock and
// Campaign block until acquired, ctx is done or the Client closes. Each
// Lease has a renewal timer (a goroutine only while a renewal runs), each
// Observe one watcher goroutine; Close (or Shutdown) releases every lease
// the Client holds and waits for all of them: no goroutine outlives it. Check answers from the outcome of the
// latest backend call, and pings the backend only when no lease is held.
package sync
