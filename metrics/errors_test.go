package metrics_test

import (
	"errors"
	"testing"

	"github.com/microos/go-os/internal/oserrtest"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/oserr"
)

func TestSentinelClasses(t *testing.T) {
	oserrtest.Classes(t, func(err error) error {
		return &metrics.Error{Op: "test", Err: metrics.Wrap(err, errors.New("backend"))}
	},
		oserrtest.Case{Err: metrics.ErrInvalidValue, Class: oserr.Invalid},
		oserrtest.Case{Err: metrics.ErrInvalidLabels, Class: oserr.Invalid},
		oserrtest.Case{Err: metrics.ErrRedefined, Class: oserr.Invalid},
		oserrtest.Case{Err: metrics.ErrOverflow, Class: oserr.Limited},
		oserrtest.Case{Err: metrics.ErrUnsupported, Class: oserr.Unsupported},
		oserrtest.Case{Err: metrics.ErrUnavailable, Class: oserr.Unavailable},
		oserrtest.Case{Err: metrics.ErrClosed, Class: oserr.Closed},
	)
}
