package discovery

import (
	"errors"
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors every backend maps its own onto. Test them with errors.Is,
// against the sentinel or its class (errors.Is(err, oserr.Unavailable),
// oserr.Code(err)): ErrStale is of class Unavailable too.
var (
	// ErrNotFound: the service has no live node. GetService returns it
	// bare, because a miss is ordinary.
	ErrNotFound = oserr.New(oserr.NotFound, "discovery: service not found")
	// ErrInvalidService: the service or one of its nodes breaks the rules
	// of Service and Node (the error names the field and the value).
	ErrInvalidService = oserr.New(oserr.Invalid, "discovery: invalid service")
	// ErrUnavailable: the backend could not be reached or did not answer in
	// time. The call may succeed when retried.
	ErrUnavailable = oserr.New(oserr.Unavailable, "discovery: backend unavailable")
	// ErrForbidden: the backend refused the credentials (a Consul ACL
	// token without the needed rights). Retrying does not help.
	ErrForbidden = oserr.New(oserr.Forbidden, "discovery: permission denied")
	// ErrClosed: the registry, cache or registrar was closed.
	ErrClosed = oserr.New(oserr.Closed, "discovery: closed")
	// ErrStale: a Cache has only an answer older than its WithMaxStale limit
	// while the backend fails; the error also wraps the backend's failure.
	ErrStale = oserr.New(oserr.Unavailable, "discovery: cached answer too stale")
)

// OpError is the error a Registry returns for a failed call: it names the
// operation and service, and unwraps to the sentinel and the backend's error.
type OpError struct {
	Op      string // "register", "deregister", "getservice", "listservices", "watch"
	Service string // the service name (empty for listservices)
	Err     error
}

func (e *OpError) Error() string {
	if e.Service == "" {
		return fmt.Sprintf("discovery: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("discovery: %s %q: %v", e.Op, e.Service, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Unavailable wraps a backend's error as ErrUnavailable, keeping it
// reachable with errors.As. Drivers use it for connection and timeout errors.
func Unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// Wrap marks a backend's error as one of the sentinels, keeping it reachable
// with errors.As.
func Wrap(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }

func errNegativeTTL(ttl interface{ String() string }) error {
	return fmt.Errorf("negative TTL %s", ttl)
}

func errHeartbeat(interval, ttl interface{ String() string }) error {
	return fmt.Errorf("heartbeat interval %s must be shorter than the TTL %s", interval, ttl)
}

var errNilService = errors.New("nil service")
