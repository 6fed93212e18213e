// Package event publishes typed records to a durable, replayable stream and
// subscribes to them: the record of what happens across a service fleet.
//
//	bus, _ := event.Open(ctx, "mem://")
//	defer bus.Close()
//	sub, _ := bus.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
//		// a record published here inherits r's RootID; its ParentID is r.ID
//		return nil
//	}, event.SubscribeOptions{Types: []string{"config.*"}, Group: "billing"})
//	defer sub.Stop()
//	id, err := bus.Publish(ctx, event.Record{Type: "config.changed", Data: data})
//
// A Record has a time-ordered id ("ms-seq", as Redis Streams), a dotted
// type, the publishing service (WithService), a timestamp, RootID and
// ParentID for correlation, metadata and opaque data (PublishJSON and
// Decode for JSON). Read returns the history by type, time range and root
// id, paged. WithRetention bounds the log by length and age. Dedupe makes
// a handler skip ids it already handled within a window. WithTracer runs
// each handler in a consumer span whose parent is the producer's span.
//
// # Backends
//
// mem:// (NewMemory): complete, in process, deterministic; the same
// group, broadcast, replay, redelivery and dead-letter semantics a real
// backend has, so that handlers are unit-tested for real. Nothing survives
// the process. event/redisevent is the Redis Streams backend (redis://,
// redis+cluster://), standalone or Cluster.
//
// # Errors
//
// ErrInvalid (no type, bad pattern, nil handler), ErrClosed (use after
// Close), ErrUnavailable (the backend did not answer), ErrCorrupt (a
// stored record is unreadable). Each is of the oserr class its name says.
// A Publish whose ctx is done returns ctx.Err(). A subscription survives
// every error: a read the backend refused is retried with WithRetry's
// backoff, an entry that is not a record (ErrCorrupt) is skipped; both
// go to SubscribeOptions.OnError and the logger.
//
// # Health
//
// Bus.Check answers from the latest Publish and each subscription's
// latest backend call (Subscription.Check: that one's reads), without a
// round trip; a Bus that has made none asks the backend.
//
// # Concurrency
//
// A Bus is safe for concurrent use. Each subscription runs
// SubscribeOptions.Concurrency handlers at once (default 1). A handler
// returning nil acknowledges the record; an error retries it after Backoff
// (doubling) up to MaxAttempts, then the record goes to the dead-letter
// list (DeadLetters) from which Redrive publishes it again. A group member
// that stops (Stop, its ctx, Close) before acknowledging
// a record gives it back to the group: another member handles it. A slow
// handler never blocks Publish: the log is not a buffer, subscribers read
// it at their own pace. Close stops every subscription and waits for handlers,
// bounded by lifecycle.CloseTimeout.
//
// # Ordering
//
// Ids are strictly increasing in publish order on one Bus; PublishBatch
// appends its records contiguously. A group or broadcast subscriber with
// Concurrency 1 handles records in id order, a failing record blocking the
// ones after it until it is acknowledged or dead-lettered. With
// Concurrency > 1, or several members in a group, records are handed out
// in id order but may finish in any order; nothing is ordered across
// groups or subscribers. A redriven record gets a new id (it is ordered as
// a new publish).
package event
