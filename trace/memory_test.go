package trace_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracetest"
)

func TestRecorderConformance(t *testing.T) {
	tracetest.Run(t, func(t *testing.T) tracetest.Backend {
		rec := trace.NewRecorder()
		return tracetest.Backend{Exporter: rec, Read: recorderRead(rec)}
	})
}

// TestBatchedConformance runs the suite through the export queue and its
// goroutine, with the Recorder as an ordinary exporter behind it.
func TestBatchedConformance(t *testing.T) {
	tracetest.Run(t, func(t *testing.T) tracetest.Backend {
		rec := trace.NewRecorder()
		return tracetest.Backend{Exporter: asyncOnly{rec}, Read: recorderRead(rec)}
	})
}

// asyncOnly hides the Recorder's type so that the Tracer batches to it.
type asyncOnly struct{ *trace.Recorder }

func recorderRead(rec *trace.Recorder) func(context.Context, trace.TraceID, int) ([]trace.SpanData, error) {
	return func(ctx context.Context, id trace.TraceID, want int) ([]trace.SpanData, error) {
		for {
			spans := rec.Trace(id)
			if len(spans) >= want {
				return spans, nil
			}
			select {
			case <-ctx.Done():
				return spans, nil
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

func TestOpenMem(t *testing.T) {
	tr, err := trace.Open(context.Background(), "mem://?service=checkout&sampler=always")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Shutdown(context.Background())
	rec, ok := tr.Exporter().(*trace.Recorder)
	if !ok {
		t.Fatalf("mem:// exporter is %T, want *trace.Recorder", tr.Exporter())
	}
	_, s := tr.Start(context.Background(), "op")
	s.End()
	d, ok := rec.Find("op")
	if !ok || d.Service != "checkout" {
		t.Fatalf("recorded %+v (found %v), want service checkout", d, ok)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{"nosuch://x", "mem://?sampler=2", "::", "mem://?sampler=fast"} {
		if tr, err := trace.Open(context.Background(), u); err == nil {
			tr.Shutdown(context.Background())
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

// An unknown parameter is an error of class Invalid, not silently dropped.
func TestOpenRefusesUnknownParameters(t *testing.T) {
	for _, u := range []string{"mem://?samplr=always", "mem://?service=a&timeout=1s"} {
		tr, err := trace.Open(context.Background(), u)
		if err == nil {
			tr.Shutdown(context.Background())
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if !errors.Is(err, trace.ErrBadURL) || oserr.Code(err) != oserr.Invalid {
			t.Errorf("Open(%q): %v", u, err)
		}
	}
}
