package router

import (
	"testing"

	"github.com/microos/go-os/internal/oserrtest"
	"github.com/microos/go-os/oserr"
)

func TestErrorClasses(t *testing.T) {
	oserrtest.Classes(t, func(err error) error { return &Error{Op: "pick", Service: "s", Err: err} },
		oserrtest.Case{Err: ErrNoNodes, Class: oserr.Unavailable},
		oserrtest.Case{Err: ErrAllEjected, Class: oserr.Unavailable},
		oserrtest.Case{Err: ErrThrottled, Class: oserr.Limited},
		oserrtest.Case{Err: ErrRateLimited, Class: oserr.Limited},
		oserrtest.Case{Err: ErrConcurrencyLimited, Class: oserr.Limited},
		oserrtest.Case{Err: ErrUnavailable, Class: oserr.Unavailable},
		oserrtest.Case{Err: ErrClosed, Class: oserr.Closed},
	)
}
