package config_test

import (
	"errors"
	"testing"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/oserr"
)

func TestSentinelClasses(t *testing.T) {
	for _, tc := range []struct {
		err   error
		class oserr.Class
	}{
		{config.ErrNotFound, oserr.NotFound},
		{config.ErrParse, oserr.Invalid},
		{config.ErrInvalid, oserr.Invalid},
		{config.ErrUnavailable, oserr.Unavailable},
		{config.ErrForbidden, oserr.Forbidden},
		{config.ErrClosed, oserr.Closed},
		{config.ErrType, oserr.Invalid},
	} {
		wrapped := &config.SourceError{Source: "test", Op: "load", Err: config.Wrap(tc.err, errors.New("backend"))}
		if oserr.Code(wrapped) != tc.class || !errors.Is(wrapped, tc.err) || !errors.Is(wrapped, tc.class) {
			t.Errorf("%v: class %v, want %v", tc.err, oserr.Code(wrapped), tc.class)
		}
	}
}
