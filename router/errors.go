package router

import (
	"errors"
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors a Router returns. Test them with errors.Is, against the
// sentinel or its class: ErrNoNodes, ErrAllEjected and ErrUnavailable are
// oserr.Unavailable, the three limits oserr.Limited, ErrClosed oserr.Closed.
var (
	// ErrNoNodes: the service has no node (none registered, or none left
	// after the version, label and filter options).
	ErrNoNodes = oserr.New(oserr.Unavailable, "router: no nodes")
	// ErrAllEjected: the service has nodes but every one is ejected for
	// failing; see WithPanicRouting to route to them anyway.
	ErrAllEjected = oserr.New(oserr.Unavailable, "router: all nodes ejected")
	// ErrThrottled: the adaptive throttle rejected the request locally
	// because the service has been failing (see WithThrottle).
	ErrThrottled = oserr.New(oserr.Limited, "router: throttled")
	// ErrRateLimited: the service's rate limit was reached (WithRateLimit).
	ErrRateLimited = oserr.New(oserr.Limited, "router: rate limited")
	// ErrConcurrencyLimited: the service already has the maximum number of
	// requests in flight (WithMaxConcurrent).
	ErrConcurrencyLimited = oserr.New(oserr.Limited, "router: concurrency limit reached")
	// ErrUnavailable: discovery failed before the router learnt any node
	// of the service; the discovery error is wrapped too. Once nodes are
	// known, a discovery failure does not stop routing to them.
	ErrUnavailable = oserr.New(oserr.Unavailable, "router: discovery unavailable")
	// ErrClosed: the router was closed.
	ErrClosed = oserr.New(oserr.Closed, "router: closed")
)

// Error is the error of a failed Pick or Do: it names the service and
// unwraps to a sentinel (and, from Do, the last attempt's error).
type Error struct {
	Op      string // "pick" or "do"
	Service string
	Err     error
}

func (e *Error) Error() string { return fmt.Sprintf("router: %s %q: %v", e.Op, e.Service, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Local reports whether err is the router refusing a request without
// sending it anywhere (throttled, rate or concurrency limited, no node,
// closed): retrying it on another node cannot help.
func Local(err error) bool {
	for _, s := range []error{ErrNoNodes, ErrAllEjected, ErrThrottled, ErrRateLimited, ErrConcurrencyLimited, ErrUnavailable, ErrClosed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
