package sync

import (
	"context"
	"time"
)

// Driver is what a backend implements; the Client in front of it does
// validation, renewal, loss detection, blocking with backoff, elections
// and use-after-Close the same way for every backend. Every method may
// block on I/O, honours ctx, and is safe for concurrent use. Errors wrap
// ErrLocked, ErrNotHeld, ErrUnavailable, ErrForbidden or ErrInvalid.
type Driver interface {
	// Acquire takes the lock once, without waiting: on success it returns
	// a Grant whose Token is larger than that of every earlier holder of
	// the name, ever; ErrLocked if another holds it.
	Acquire(ctx context.Context, req Request) (Grant, error)

	// Renew extends the hold of g for ttl from now; ErrNotHeld if g no
	// longer holds the lock.
	Renew(ctx context.Context, name string, g Grant, ttl time.Duration) error

	// Release frees the lock if, and only if, g still holds it; releasing
	// a lock g does not hold is not an error and changes nothing.
	Release(ctx context.Context, name string, g Grant) error

	// Holder says who holds the lock: ErrNoLeader when nobody does.
	Holder(ctx context.Context, name string) (Holder, error)

	// Ping asks the backend for an answer, for Check when nothing else
	// talked to it lately.
	Ping(ctx context.Context) error

	// Close releases the driver's resources (a client it created).
	Close() error
}

// Request is one acquisition attempt.
type Request struct {
	Name      string
	Owner     string        // random, unique per acquisition: whose lock it is
	Value     []byte        // the holder's metadata (the candidate, for elections)
	TTL       time.Duration // how long the lock lives without renewal
	LockDelay time.Duration // Consul: how long the lock stays unavailable after its holder is lost
}

// Grant is what the backend gave a holder.
type Grant struct {
	Token uint64 // the fencing token
	Owner string // Request.Owner
	// Handle is the backend's own name for the hold (the Consul session
	// id); empty when Owner is enough.
	Handle string
}

// Holder is the current holder of a lock or leader of an election.
type Holder struct {
	Value []byte // Request.Value of the holder (the candidate)
	Token uint64 // its fencing token
}

// Waiter is implemented by drivers that can wait for a change of holder
// (Consul's blocking queries) instead of being polled: WaitHolder returns
// when the holder differs from after, or when wait has passed.
type Waiter interface {
	WaitHolder(ctx context.Context, name string, after Holder, wait time.Duration) (Holder, error)
}
