package config_test

import (
	"errors"
	"testing"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/internal/oserrtest"
	"github.com/microos/go-os/oserr"
)

func TestSentinelClasses(t *testing.T) {
	oserrtest.Classes(t, func(err error) error {
		return &config.SourceError{Source: "test", Op: "load", Err: config.Wrap(err, errors.New("backend"))}
	},
		oserrtest.Case{Err: config.ErrNotFound, Class: oserr.NotFound},
		oserrtest.Case{Err: config.ErrParse, Class: oserr.Invalid},
		oserrtest.Case{Err: config.ErrInvalid, Class: oserr.Invalid},
		oserrtest.Case{Err: config.ErrUnavailable, Class: oserr.Unavailable},
		oserrtest.Case{Err: config.ErrForbidden, Class: oserr.Forbidden},
		oserrtest.Case{Err: config.ErrClosed, Class: oserr.Closed},
		oserrtest.Case{Err: config.ErrType, Class: oserr.Invalid},
	)
}
