package event

import "context"

// Driver is what a backend implements; the Bus adds everything portable
// on top (origin, correlation, tracing, attempts, backoff, dead-lettering
// decisions, subscription lifecycle). A Driver is safe for concurrent use.
type Driver interface {
	// Append stores recs in order (one round trip per server where the
	// backend allows) and returns their ids, time-ordered and unique. It
	// fills ID, and Timestamp and RootID when they are empty, in what it
	// stores: recs may be the caller's own slice and is never written.
	Append(ctx context.Context, recs []Record) ([]string, error)
	// Read returns the history matching q in id order and the next page
	// token ("" at the end); q.Limit is set.
	Read(ctx context.Context, q Query) ([]Record, string, error)
	// Cursor opens a position: shared by every Cursor of the same
	// o.Group (each record to one of them), or private when o.Group is ""
	// (broadcast). o.Start applies to a broadcast cursor or a new group.
	Cursor(ctx context.Context, o SubscribeOptions) (Cursor, error)
	// DeadLetter appends d to the dead-letter stream.
	DeadLetter(ctx context.Context, d DeadLetter) error
	// DeadLetters returns the dead-letter stream.
	DeadLetters(ctx context.Context) ([]DeadLetter, error)
	// TakeDead removes the dead letter of the record with this id and
	// returns its record; ok is false when there is none.
	TakeDead(ctx context.Context, id string) (rec Record, ok bool, err error)
	// Check reports the backend's health cheaply.
	Check(ctx context.Context) error
	// As reaches the backend client.
	As(i any) bool
	// Close releases the backend's resources.
	Close() error
}

// Cursor hands out the records of one subscription; its methods are safe
// for concurrent use by the subscription's workers.
type Cursor interface {
	// Next waits for the next matching record (for a group: a new one, or
	// one another member abandoned or left unacknowledged past the
	// backend's visibility timeout). It returns ctx's error when ctx ends,
	// and at once a backend error (the Bus backs off before the next call)
	// or an error wrapping ErrCorrupt for an entry that is not a record,
	// which the cursor has skipped.
	Next(ctx context.Context) (Record, error)
	// Ack marks rec handled (acknowledged or dead-lettered). It may queue
	// the acknowledgement and send it with others (redisevent does), as
	// long as Close sends what is queued: one lost with a crash only means
	// a redelivery.
	Ack(ctx context.Context, rec Record) error
	// Release hands rec, whose handling was abandoned, back to the group
	// so that another member takes it over.
	Release(ctx context.Context, rec Record) error
	// Check reports the health of the cursor's latest backend calls
	// without a round trip (a Health does the bookkeeping).
	Check(ctx context.Context) error
	// Close releases the cursor once every worker has returned (a
	// group member's records left unacknowledged stay for takeover).
	Close() error
}
