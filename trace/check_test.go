package trace_test

import (
	"context"
	"errors"
	"testing"

	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/trace"
)

// The sentinels answer to their shared class, so a caller need not know
// the trace package to ask "retry may help?".
func TestSentinelClasses(t *testing.T) {
	for _, c := range []struct {
		err   error
		class oserr.Class
	}{
		{trace.ErrInvalidContext, oserr.Invalid},
		{trace.ErrClosed, oserr.Closed},
		{trace.ErrUnavailable, oserr.Unavailable},
		{trace.ErrRejected, oserr.Invalid},
		{trace.Unavailable(errors.New("down")), oserr.Unavailable},
	} {
		if got := oserr.Code(c.err); got != c.class {
			t.Errorf("%v: class %v, want %v", c.err, got, c.class)
		}
	}
}

// Check: healthy before any export, unavailable (with the cause) while
// exports fail, healthy again after one succeeds, closed after Close; a
// nil Tracer is healthy and Close is idempotent.
func TestCheck(t *testing.T) {
	var nilTracer *trace.Tracer
	if err := nilTracer.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	close(g.release)
	g.failures.Store(1)
	tr := trace.New(g, trace.WithMaxRetries(0))
	if err := tr.Check(context.Background()); err != nil {
		t.Fatalf("before any export: %v", err)
	}
	_, s := tr.Start(context.Background(), "x")
	s.End()
	_ = tr.Flush(context.Background())
	err := tr.Check(context.Background())
	if !errors.Is(err, trace.ErrUnavailable) || oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("after a failed export: %v", err)
	}
	_, s = tr.Start(context.Background(), "y")
	s.End()
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Check(context.Background()); err != nil {
		t.Fatalf("after a good export: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("done ctx: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := tr.Check(context.Background()); !errors.Is(err, trace.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestAs(t *testing.T) {
	tr, rec := trace.NewMemory()
	defer tr.Close()
	var got *trace.Recorder
	if !tr.As(&got) || got != rec {
		t.Fatal("As did not reach the Recorder")
	}
	var other *int
	if tr.As(&other) {
		t.Fatal("As set a type it does not know")
	}
	var nilTracer *trace.Tracer
	if nilTracer.As(&got) {
		t.Fatal("nil Tracer set something")
	}
}
