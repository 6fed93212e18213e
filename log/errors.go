package log

import (
	"fmt"

	"github.com/microos/go-os/oserr"
)

// The errors of this package and of every Output. Test them with
// errors.Is, against the sentinel or its oserr class (oserr.Code).
var (
	// ErrClosed: the logger, queue or output was closed.
	ErrClosed = oserr.New(oserr.Closed, "log: closed")
	// ErrDropped: the async queue was full under the Drop policy, or the
	// caller's ctx ended while it waited under Block; the line was counted
	// in Stats.Dropped and not written.
	ErrDropped = oserr.New(oserr.Limited, "log: line dropped")
	// ErrInvalidOption: an option or URL parameter has a value that cannot
	// work (a negative size, an unknown format or level).
	ErrInvalidOption = oserr.New(oserr.Invalid, "log: invalid option")
	// ErrOutput: an output failed to write or sync (disk full, file removed,
	// connection lost). The output's own error stays reachable with errors.As.
	ErrOutput = oserr.New(oserr.Unavailable, "log: output failed")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// outputError wraps an output's error as ErrOutput.
func outputError(err error) error { return fmt.Errorf("%w: %w", ErrOutput, err) }
