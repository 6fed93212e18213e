package discovery

import (
	"errors"
	"testing"

	"github.com/microos/go-os/internal/oserrtest"
	"github.com/microos/go-os/oserr"
)

func TestErrorClasses(t *testing.T) {
	backend := errors.New("dial tcp: connection refused")
	oserrtest.Classes(t, nil,
		oserrtest.Case{Err: ErrNotFound, Class: oserr.NotFound},
		oserrtest.Case{Err: &OpError{Op: "register", Service: "s", Err: Wrap(ErrInvalidService, backend)}, Class: oserr.Invalid},
		oserrtest.Case{Err: &OpError{Op: "getservice", Service: "s", Err: Unavailable(backend)}, Class: oserr.Unavailable},
		oserrtest.Case{Err: &OpError{Op: "register", Service: "s", Err: Wrap(ErrForbidden, backend)}, Class: oserr.Forbidden},
		oserrtest.Case{Err: &OpError{Op: "watch", Service: "s", Err: ErrClosed}, Class: oserr.Closed},
		oserrtest.Case{Err: &OpError{Op: "lookup", Service: "s", Err: Wrap(ErrStale, Unavailable(backend))}, Class: oserr.Unavailable},
	)
}
