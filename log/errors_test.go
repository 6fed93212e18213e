package log_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/microos/go-os/internal/oserrtest"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/oserr"
)

func TestSentinelClasses(t *testing.T) {
	oserrtest.Classes(t, func(err error) error { return fmt.Errorf("op: %w: %w", err, errors.New("backend")) },
		oserrtest.Case{Err: log.ErrClosed, Class: oserr.Closed},
		oserrtest.Case{Err: log.ErrDropped, Class: oserr.Limited},
		oserrtest.Case{Err: log.ErrInvalidOption, Class: oserr.Invalid},
		oserrtest.Case{Err: log.ErrOutput, Class: oserr.Unavailable},
	)
}
