package trace_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/microos/go-os/trace"
)

// An unsampled root draws its ids when its context is first read; every
// reader, however many race for it, sees the same valid ids, and they are
// what Inject sends downstream with the decision (traceparent flags 00).
func TestUnsampledRootIDsAgreeAcrossReaders(t *testing.T) {
	tr := trace.New(discardExporter{}, trace.WithSampler(trace.Never()))
	defer tr.Shutdown(context.Background())
	for range 50 {
		ctx, s := tr.Start(context.Background(), "root")
		const readers = 8
		got := make([]trace.SpanContext, readers)
		var wg sync.WaitGroup
		for i := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = trace.SpanContextFromContext(ctx)
			}()
		}
		wg.Wait()
		for i, sc := range got {
			if !sc.IsValid() || sc.Sampling != trace.Deny || sc != got[0] {
				t.Fatalf("reader %d saw %+v, reader 0 %+v", i, sc, got[0])
			}
		}
		h := http.Header{}
		tr.Inject(ctx, h)
		want := "00-" + got[0].TraceID.String() + "-" + got[0].SpanID.String() + "-00"
		if tp := h.Get(trace.HeaderTraceparent); tp != want {
			t.Fatalf("traceparent %q, want %q", tp, want)
		}
		if s.SpanContext() != got[0] {
			t.Fatalf("span %+v, context %+v", s.SpanContext(), got[0])
		}
	}
}

// A debug child of an unsampled root joins the root's trace: the lazy ids
// are drawn for it.
func TestDebugChildOfUnsampledRootJoinsItsTrace(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithSampler(trace.Never()))
	ctx, root := tr.Start(context.Background(), "root")
	_, child := tr.Start(ctx, "child", trace.WithDebug())
	child.End()
	root.End()
	spans := rec.Spans()
	rsc := root.SpanContext()
	if len(spans) != 1 || spans[0].TraceID != rsc.TraceID || spans[0].ParentID != rsc.SpanID || !rsc.IsValid() {
		t.Fatalf("spans %+v, root %+v", spans, rsc)
	}
}

// A remote caller's unsampled trace keeps its trace id; the local span
// gets a span id of its own.
func TestUnsampledRemoteChildKeepsTraceID(t *testing.T) {
	tr := trace.New(discardExporter{})
	defer tr.Shutdown(context.Background())
	parent, err := trace.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	if err != nil {
		t.Fatal(err)
	}
	_, s := tr.Start(context.Background(), "server", trace.Server, trace.WithParent(parent))
	sc := s.SpanContext()
	if sc.TraceID != parent.TraceID || !sc.SpanID.IsValid() || sc.SpanID == parent.SpanID || sc.IsSampled() {
		t.Fatalf("span %+v, parent %+v", sc, parent)
	}
}
