package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors every backend maps its own onto. Test them with errors.Is;
// oserr.Code(err) gives their class whatever the package.
var (
	// ErrLocked: TryLock found the lock held by another (class Conflict).
	ErrLocked = oserr.New(oserr.Conflict, "sync: locked by another holder")
	// ErrNotHeld: the backend says this holder no longer holds the lock:
	// it expired, another took it, or the Consul session was invalidated
	// (class Conflict). A Lease whose renewal gets it is lost.
	ErrNotHeld = oserr.New(oserr.Conflict, "sync: lock not held")
	// ErrLost is what Lease.Err returns once the lease is known lost; it
	// wraps the cause (ErrNotHeld, or the last renewal failure).
	ErrLost = oserr.New(oserr.Conflict, "sync: lease lost")
	// ErrUnavailable: the backend could not be reached or did not answer
	// in time; retrying may help.
	ErrUnavailable = oserr.New(oserr.Unavailable, "sync: backend unavailable")
	// ErrForbidden: the backend refused our credentials (Redis NOAUTH or
	// WRONGPASS, a Consul ACL).
	ErrForbidden = oserr.New(oserr.Forbidden, "sync: forbidden")
	// ErrInvalid: a bad lock name, TTL or option.
	ErrInvalid = oserr.New(oserr.Invalid, "sync: invalid argument")
	// ErrClosed: the Client was closed.
	ErrClosed = oserr.New(oserr.Closed, "sync: client closed")
	// ErrNoLeader: Leader found nobody leading the election.
	ErrNoLeader = oserr.New(oserr.NotFound, "sync: no leader")
)

// Unavailable wraps a backend's error as ErrUnavailable, keeping it
// reachable with errors.As. A cancelled ctx says nothing of the backend and
// stays as it is.
func Unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Wrap marks a backend's error as one of the sentinels.
func Wrap(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }

// OpError is the error of a failed call: it names the operation and the
// lock, and unwraps to the sentinel and the backend's error.
type OpError struct {
	Op   string // "lock", "trylock", "unlock", "renew", "campaign", "resign", "leader", "observe"
	Name string // the lock or election name
	Err  error
}

func (e *OpError) Error() string { return fmt.Sprintf("sync: %s %q: %v", e.Op, e.Name, e.Err) }
func (e *OpError) Unwrap() error { return e.Err }

// backendFault says whether err tells something about the backend's health
// (as opposed to the caller's input, a lock held by another, or a ctx).
func backendFault(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrForbidden)
}
