package monitor

import "github.com/microos/go-os/oserr"

// Sentinels; each also matches its oserr class.
var (
	// ErrTimeout: a check did not return within its timeout.
	ErrTimeout = oserr.New(oserr.DeadlineExceeded, "monitor: check timed out")
	// ErrPanic: a check panicked; the panic is reported, not fatal.
	ErrPanic = oserr.New(oserr.Internal, "monitor: check panicked")
	// ErrStale: a check's last result is older than its max age.
	ErrStale = oserr.New(oserr.Unavailable, "monitor: check result too old")
	// ErrNoResult: a check has not finished its first run yet.
	ErrNoResult = oserr.New(oserr.Unavailable, "monitor: check has no result yet")
	// ErrSink: a sink's last publish failed.
	ErrSink = oserr.New(oserr.Unavailable, "monitor: sink publish failed")
	// ErrExists: a check of that name is already registered.
	ErrExists = oserr.New(oserr.Exists, "monitor: check already registered")
	// ErrNotFound: no check of that name.
	ErrNotFound = oserr.New(oserr.NotFound, "monitor: no such check")
	// ErrInvalid: a bad name or option.
	ErrInvalid = oserr.New(oserr.Invalid, "monitor: invalid check")
	// ErrClosed: the monitor is shut down.
	ErrClosed = oserr.New(oserr.Closed, "monitor: closed")
)
