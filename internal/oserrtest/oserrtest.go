// Package oserrtest is the one check that a package's errors carry their
// oserr class: every package's errors_test.go is its table of cases.
package oserrtest

import (
	"errors"
	"testing"

	"github.com/microos/go-os/oserr"
)

// Case is an error of a package (a sentinel, or an error as a call
// returns it) and the class it must have.
type Case struct {
	Err   error
	Class oserr.Class
}

// Classes checks every case's error, wrapped by wrap as the package wraps
// what it returns (nil: as it is): oserr.Code gives its class, errors.Is
// matches the class, and errors.Is still matches the case's own error.
func Classes(t testing.TB, wrap func(error) error, cases ...Case) {
	t.Helper()
	for _, c := range cases {
		err := c.Err
		if wrap != nil {
			err = wrap(c.Err)
		}
		if got := oserr.Code(err); got != c.Class {
			t.Errorf("Code(%v) = %v, want %v", err, got, c.Class)
		}
		if !errors.Is(err, c.Class) {
			t.Errorf("errors.Is(%v, %v) = false", err, c.Class)
		}
		if !errors.Is(err, c.Err) {
			t.Errorf("errors.Is(%v, its own error %v) = false: the wrapping lost it", err, c.Err)
		}
	}
}
