package metrics_test

import (
	"errors"
	"testing"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/oserr"
)

func TestSentinelClasses(t *testing.T) {
	for _, tc := range []struct {
		err   error
		class oserr.Class
	}{
		{metrics.ErrInvalidValue, oserr.Invalid},
		{metrics.ErrInvalidLabels, oserr.Invalid},
		{metrics.ErrRedefined, oserr.Invalid},
		{metrics.ErrOverflow, oserr.Limited},
		{metrics.ErrUnsupported, oserr.Unsupported},
		{metrics.ErrUnavailable, oserr.Unavailable},
		{metrics.ErrClosed, oserr.Closed},
	} {
		wrapped := &metrics.Error{Op: "test", Err: metrics.Wrap(tc.err, errors.New("backend"))}
		if oserr.Code(wrapped) != tc.class || !errors.Is(wrapped, tc.err) || !errors.Is(wrapped, tc.class) {
			t.Errorf("%v: class %v, want %v", tc.err, oserr.Code(wrapped), tc.class)
		}
	}
}
