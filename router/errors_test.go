package router

import (
	"errors"
	"testing"

	"github.com/microos/go-os/oserr"
)

func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want oserr.Class
	}{
		{ErrNoNodes, oserr.Unavailable},
		{ErrAllEjected, oserr.Unavailable},
		{ErrThrottled, oserr.Limited},
		{ErrRateLimited, oserr.Limited},
		{ErrConcurrencyLimited, oserr.Limited},
		{ErrUnavailable, oserr.Unavailable},
		{ErrClosed, oserr.Closed},
	} {
		err := &Error{Op: "pick", Service: "s", Err: tc.err}
		if got := oserr.Code(err); got != tc.want {
			t.Errorf("Code(%v) = %v, want %v", err, got, tc.want)
		}
		if !errors.Is(err, tc.want) || !errors.Is(err, tc.err) {
			t.Errorf("errors.Is(%v, %v / its sentinel) = false", err, tc.want)
		}
	}
}
