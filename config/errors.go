package config

import (
	"errors"
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors every source maps its own onto. Test them with errors.Is,
// against the sentinel or its oserr class (oserr.Code).
var (
	// ErrNotFound: the source does not exist (a missing file, a missing
	// Consul key holding a document). Optional sources and overlays treat
	// it as empty instead.
	ErrNotFound = oserr.New(oserr.NotFound, "config: source not found")
	// ErrParse: the source holds something that is not a valid document
	// of its format (a half-written file, invalid YAML, a garbage value).
	ErrParse = oserr.New(oserr.Invalid, "config: malformed source")
	// ErrInvalid: the merged configuration failed a validator, so the
	// reload was rejected and the last good snapshot kept.
	ErrInvalid = oserr.New(oserr.Invalid, "config: invalid configuration")
	// ErrUnavailable: the backend could not be reached or did not answer in
	// time; a later reload may succeed.
	ErrUnavailable = oserr.New(oserr.Unavailable, "config: source unavailable")
	// ErrForbidden: the backend refused the source's credentials (a
	// Consul ACL token without read access). Retrying does not help until
	// the credentials change.
	ErrForbidden = oserr.New(oserr.Forbidden, "config: access to source forbidden")
	// ErrClosed: the Config was closed.
	ErrClosed = oserr.New(oserr.Closed, "config: closed")
	// ErrType: Scan could not put a value into the destination's type.
	ErrType = oserr.New(oserr.Invalid, "config: wrong type")
)

// SourceError is what a failed load or rejected reload reports: which
// source, what step ("load", "watch", "validate") and why. It unwraps to
// a sentinel and to the backend's own error.
type SourceError struct {
	Source string // the source's Name
	Op     string // "load", "watch" or "validate"
	Err    error
}

func (e *SourceError) Error() string { return fmt.Sprintf("config: %s %s: %v", e.Op, e.Source, e.Err) }

func (e *SourceError) Unwrap() error { return e.Err }

// Unavailable wraps a backend's error as ErrUnavailable, keeping it
// reachable with errors.As. Sources use it for connection and timeout errors.
func Unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// Wrap marks a backend's error as one of the sentinels, keeping it reachable
// with errors.As.
func Wrap(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }

var errWatchEnded = errors.New("watch ended without error before it was stopped")
