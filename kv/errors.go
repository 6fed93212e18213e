package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microos/go-os/oserr"
)

// The errors every backend maps its own onto. Test them with errors.Is,
// or ask their class with oserr.Code (each is declared with oserr.New).
var (
	// ErrNotFound: the key has no value (never set, deleted or expired).
	// It is returned as is, without wrapping, because a miss is ordinary.
	ErrNotFound = oserr.New(oserr.NotFound, "kv: not found")
	// ErrExists: Add found a value already there.
	ErrExists = oserr.New(oserr.Exists, "kv: key exists")
	// ErrConflict: CompareAndSwap found another version than the one read.
	ErrConflict = oserr.New(oserr.Conflict, "kv: version conflict")
	// ErrInvalidKey: the key is empty, longer than MaxKeyLen, or has a
	// space or control character.
	ErrInvalidKey = oserr.New(oserr.Invalid, "kv: invalid key")
	// ErrInvalidItem: the item cannot be written as asked (negative TTL,
	// CompareAndSwap without a version).
	ErrInvalidItem = oserr.New(oserr.Invalid, "kv: invalid item")
	// ErrCorrupt: the stored value cannot be read as an item: another
	// client wrote it in its own format, or it is of another type.
	ErrCorrupt = oserr.New(oserr.Corrupt, "kv: stored value unreadable")
	// ErrTooLarge: the backend refused the value for its size.
	ErrTooLarge = oserr.New(oserr.Invalid, "kv: value too large")
	// ErrClosed: the store was closed.
	ErrClosed = oserr.New(oserr.Closed, "kv: store closed")
	// ErrUnavailable: the backend could not be reached or did not answer in
	// time. Unlike ErrNotFound it says nothing about the key: the call may
	// succeed when retried.
	ErrUnavailable = oserr.New(oserr.Unavailable, "kv: backend unavailable")
	// ErrForbidden: the backend refused the client's credentials or its
	// permissions (Redis NOAUTH, WRONGPASS, NOPERM; memcached SASL). Retrying
	// with the same credentials cannot help.
	ErrForbidden = oserr.New(oserr.Forbidden, "kv: backend refused the credentials")
)

// OpError is the error a Store returns for a failed call: it names the
// operation and key, and unwraps to the sentinel and the backend's error.
type OpError struct {
	Op  string // "get", "set", "add", "cas", "delete", "getmulti"
	Key string // the key as the caller gave it; for getmulti, the invalid key or ""
	Err error
}

func (e *OpError) Error() string {
	if e.Key == "" && e.Op == "getmulti" {
		return fmt.Sprintf("kv: getmulti: %v", e.Err)
	}
	return fmt.Sprintf("kv: %s %q: %v", e.Op, e.Key, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Unavailable wraps a backend's error as ErrUnavailable, keeping it
// reachable with errors.As. Drivers use it for connection and timeout
// errors. A call the caller cancelled (context.Canceled) says nothing of
// the backend: it stays as it is. A deadline that passed while waiting on
// the backend is ErrUnavailable too.
func Unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Wrap marks a backend's error as one of the sentinels, keeping it reachable
// with errors.As.
func Wrap(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }

var errNoVersion = fmt.Errorf("%w: CompareAndSwap needs the Version read by Get (use Add to write only if absent)", ErrInvalidItem)

func errInvalidTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: negative TTL %s", ErrInvalidItem, ttl)
	}
	return fmt.Errorf("%w: TTL %s is longer than MaxTTL (%s); use 0 for no expiry", ErrInvalidItem, ttl, MaxTTL)
}
