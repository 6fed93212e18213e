package oserr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/microos/go-os/oserr"
)

var errDown = oserr.New(oserr.Unavailable, "pkg: backend unavailable")

func TestSentinelMatchesItsClassAndItself(t *testing.T) {
	err := fmt.Errorf("pkg: get %q: %w: %w", "k", errDown, errors.New("dial tcp: refused"))
	if !errors.Is(err, errDown) {
		t.Error("errors.Is(err, sentinel) = false")
	}
	if !errors.Is(err, oserr.Unavailable) {
		t.Error("errors.Is(err, oserr.Unavailable) = false")
	}
	if errors.Is(err, oserr.NotFound) {
		t.Error("errors.Is(err, oserr.NotFound) = true")
	}
	if got := oserr.Code(err); got != oserr.Unavailable {
		t.Errorf("Code = %v, want unavailable", got)
	}
	if !oserr.Retryable(err) {
		t.Error("an unavailable error is not retryable")
	}
	other := oserr.New(oserr.Unavailable, "pkg: backend unavailable")
	if errors.Is(err, other) {
		t.Error("two sentinels of one class and message are the same error")
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want oserr.Class
	}{
		{nil, oserr.Unknown},
		{errors.New("plain"), oserr.Unknown},
		{context.Canceled, oserr.Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), oserr.DeadlineExceeded},
		// A sentinel wins over the context error it wraps.
		{fmt.Errorf("%w: %w", errDown, context.DeadlineExceeded), oserr.Unavailable},
		{oserr.Forbidden, oserr.Forbidden},
		{fmt.Errorf("wrapped: %w", oserr.Limited), oserr.Limited},
		{errors.Join(errors.New("a"), oserr.New(oserr.Closed, "closed")), oserr.Closed},
	} {
		if got := oserr.Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestClassNames(t *testing.T) {
	for c := oserr.Unknown; c <= oserr.Internal; c++ {
		if c.String() == "unknown" && c != oserr.Unknown {
			t.Errorf("class %d has no name", c)
		}
	}
	if oserr.Class(200).String() != "unknown" {
		t.Error("an out-of-range class has a name")
	}
}

func ExampleCode() {
	var ErrLocked = oserr.New(oserr.Conflict, "sync: locked")
	err := fmt.Errorf("sync: lock %q: %w", "jobs", ErrLocked)
	fmt.Println(oserr.Code(err).String(), errors.Is(err, ErrLocked), errors.Is(err, oserr.Conflict))
	// Output: conflict true true
}
