package discovery

import (
	"errors"
	"testing"

	"github.com/microos/go-os/oserr"
)

func TestErrorClasses(t *testing.T) {
	backend := errors.New("dial tcp: connection refused")
	for _, tc := range []struct {
		err  error
		want oserr.Class
	}{
		{ErrNotFound, oserr.NotFound},
		{&OpError{Op: "register", Service: "s", Err: Wrap(ErrInvalidService, backend)}, oserr.Invalid},
		{&OpError{Op: "getservice", Service: "s", Err: Unavailable(backend)}, oserr.Unavailable},
		{&OpError{Op: "register", Service: "s", Err: Wrap(ErrForbidden, backend)}, oserr.Forbidden},
		{&OpError{Op: "watch", Service: "s", Err: ErrClosed}, oserr.Closed},
		{&OpError{Op: "lookup", Service: "s", Err: Wrap(ErrStale, Unavailable(backend))}, oserr.Unavailable},
	} {
		if got := oserr.Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %v, want %v", tc.err, got, tc.want)
		}
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.want)
		}
	}
}
