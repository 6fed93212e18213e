package log_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/microos/go-os/log"
	"github.com/microos/go-os/oserr"
)

func TestSentinelClasses(t *testing.T) {
	for _, tc := range []struct {
		err   error
		class oserr.Class
	}{
		{log.ErrClosed, oserr.Closed},
		{log.ErrDropped, oserr.Limited},
		{log.ErrInvalidOption, oserr.Invalid},
		{log.ErrOutput, oserr.Unavailable},
	} {
		wrapped := fmt.Errorf("op: %w: %w", tc.err, errors.New("backend"))
		if oserr.Code(wrapped) != tc.class || !errors.Is(wrapped, tc.err) || !errors.Is(wrapped, tc.class) {
			t.Errorf("%v: class %v, want %v", tc.err, oserr.Code(wrapped), tc.class)
		}
	}
}
