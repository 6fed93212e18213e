package trace_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/microos/go-os/trace"
)

func TestChildInheritsTrace(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithService("svc", "", ""))
	ctx, root := tr.Start(context.Background(), "root", trace.Server)
	cctx, child := tr.Start(ctx, "child", trace.Client)
	if trace.FromContext(cctx) != child || trace.FromContext(ctx) != root {
		t.Fatal("FromContext does not return the span Start put in the context")
	}
	child.End()
	root.End()
	c, _ := rec.Find("child")
	r, _ := rec.Find("root")
	if c.TraceID != r.TraceID || c.ParentID != r.SpanID || r.ParentID.IsValid() {
		t.Errorf("child %+v root %+v", c, r)
	}
	if c.Service != "svc" || c.Kind != trace.Client || r.Kind != trace.Server {
		t.Errorf("service/kind: %+v %+v", c, r)
	}
}

func TestUnsampledChildCostsNothing(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithSampler(trace.Never()))
	ctx, root := tr.Start(context.Background(), "root")
	if root == nil || root.IsRecording() || !root.SpanContext().IsValid() || root.SpanContext().Sampling != trace.Deny {
		t.Fatalf("unsampled root: %+v", root.SpanContext())
	}
	cctx, child := tr.Start(ctx, "child")
	if child != nil || cctx != ctx {
		t.Errorf("a child of an unsampled span should be nil in the parent's ctx")
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, s := tr.Start(ctx, "child")
		s.SetTag("k", "v")
		s.End()
	})
	if allocs != 0 {
		t.Errorf("unsampled child: %v allocs", allocs)
	}
	root.End()
	if len(rec.Spans()) != 0 {
		t.Errorf("recorded %d spans", len(rec.Spans()))
	}
}

func TestNoopTracer(t *testing.T) {
	tr := trace.Noop()
	ctx := context.Background()
	e := errors.New("e")
	allocs := testing.AllocsPerRun(100, func() {
		c, s := tr.Start(ctx, "x", trace.Client)
		s.SetTag("k", "v")
		s.SetError(e)
		s.End()
		_ = c
	})
	if allocs != 0 {
		t.Errorf("noop: %v allocs", allocs)
	}
	if err := tr.Shutdown(ctx); err != nil || tr.Flush(ctx) != nil || tr.Dropped() != 0 {
		t.Error("noop Close/Flush/Dropped")
	}
}

func TestSpanAfterEndIsFrozen(t *testing.T) {
	tr, rec := trace.NewMemory()
	_, s := tr.Start(context.Background(), "x")
	s.End()
	s.SetTag("late", "1")
	s.SetName("renamed")
	s.SetError(errors.New("late"))
	s.AddEvent("late")
	s.End()
	if spans := rec.Spans(); len(spans) != 1 || spans[0].Name != "x" || len(spans[0].Tags) != 0 || spans[0].Error != "" || len(spans[0].Events) != 0 {
		t.Errorf("recorded %+v", spans)
	}
	if s.IsRecording() {
		t.Error("an ended span is recording")
	}
}

func TestManyTags(t *testing.T) {
	tr, rec := trace.NewMemory()
	_, s := tr.Start(context.Background(), "x", trace.WithTags(trace.Tag{Key: "a", Value: "1"}), trace.WithStartTime(time.Unix(1000, 0)))
	for _, k := range []string{"b", "c", "d", "e", "f", "a"} {
		s.SetTag(k, k)
	}
	s.End()
	d, _ := rec.Find("x")
	if len(d.Tags) != 6 || d.Tags[0] != (trace.Tag{Key: "a", Value: "a"}) || !d.Start.Equal(time.Unix(1000, 0)) {
		t.Errorf("tags %+v start %v", d.Tags, d.Start)
	}
}

func TestConcurrentSpanUse(t *testing.T) {
	tr, rec := trace.NewMemory()
	_, s := tr.Start(context.Background(), "shared")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				s.SetTag("k", "v")
				s.AddEvent("e")
				if i == 0 && j == 50 {
					s.End()
				}
			}
		})
	}
	wg.Wait()
	if len(rec.Spans()) != 1 {
		t.Errorf("%d spans", len(rec.Spans()))
	}
}

func TestRecorderKeepsTheLast(t *testing.T) {
	tr, rec := trace.NewMemory()
	for range trace.MaxRecorded + 5 {
		_, s := tr.Start(context.Background(), "x")
		s.End()
	}
	if n := len(rec.Spans()); n != trace.MaxRecorded {
		t.Errorf("%d spans kept", n)
	}
	if tr.Stats().Exported != trace.MaxRecorded+5 {
		t.Errorf("stats %+v", tr.Stats())
	}
	rec.Reset()
	if len(rec.Spans()) != 0 || len(rec.TraceIDs()) != 0 {
		t.Error("Reset kept spans")
	}
}

func TestLogIDsAndAttrs(t *testing.T) {
	tr, _ := trace.NewMemory()
	ctx, s := tr.Start(context.Background(), "x")
	defer s.End()
	tid, sid, ok := trace.LogIDs(ctx)
	if !ok || tid != s.SpanContext().TraceID.String() || sid != s.SpanContext().SpanID.String() {
		t.Errorf("LogIDs %q %q %v", tid, sid, ok)
	}
	if _, _, ok := trace.LogIDs(context.Background()); ok {
		t.Error("LogIDs without a span")
	}
	attrs := trace.LogAttrs(ctx)
	if len(attrs) != 2 || attrs[0].Value.String() != s.SpanContext().TraceID.String() || attrs[1].Value.String() != s.SpanContext().SpanID.String() {
		t.Errorf("LogAttrs %v", attrs)
	}
	if trace.LogAttrs(context.Background()) != nil {
		t.Error("LogAttrs without a span")
	}
}

// WithService has the shape log and metrics share: version and instance
// are tagged on every sampled span.
func TestWithServiceTagsVersionAndInstance(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithService("orders", "1.4.2", "orders-7f9c"), trace.WithSampler(trace.Always()))
	_, s := tr.Start(context.Background(), "op", trace.WithTags(trace.Tag{Key: "k", Value: "v"}))
	s.End()
	tr.Close()
	spans := rec.Spans()
	if len(spans) != 1 || spans[0].Service != "orders" {
		t.Fatalf("spans %v, want one of service orders", spans)
	}
	want := map[string]string{"service.version": "1.4.2", "service.instance.id": "orders-7f9c", "k": "v"}
	got := map[string]string{}
	for _, tag := range spans[0].Tags {
		got[tag.Key] = tag.Value
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, got[k], v, spans[0].Tags)
		}
	}
}

// An unsampled root, what every request sampled out as it arrives costs,
// allocates nothing (its context comes from a slab shared by many), and
// each one still carries its own ids and the decision for its children.
func TestUnsampledRootAllocatesNothing(t *testing.T) {
	tr := trace.New(discardExporter{}, trace.WithSampler(trace.Never()))
	defer tr.Shutdown(context.Background())
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		_, s := tr.Start(ctx, "root")
		s.SetTag("k", "v")
		s.End()
	}); n != 0 {
		t.Errorf("unsampled root: %v allocs", n)
	}
	seen := map[trace.SpanID]bool{}
	var ctxs []context.Context
	for range 100 { // more than one slab
		c, s := tr.Start(ctx, "root")
		ctxs = append(ctxs, c)
		if seen[s.SpanContext().SpanID] || s.SpanContext().Sampling != trace.Deny {
			t.Fatalf("span %+v: repeated id or lost decision", s.SpanContext())
		}
		seen[s.SpanContext().SpanID] = true
	}
	for _, c := range ctxs { // no later root overwrote an earlier one's slot
		if sc := trace.SpanContextFromContext(c); !seen[sc.SpanID] || sc.Sampling != trace.Deny {
			t.Fatalf("context carries %+v", sc)
		}
		if cc, child := tr.Start(c, "child"); child != nil || cc != c {
			t.Fatal("a child of an unsampled root records or allocates")
		}
		delete(seen, trace.SpanContextFromContext(c).SpanID)
	}
}

// A sampled span costs one allocation (the goal is at most two): its
// context, span and recording are one object.
func TestSampledSpanAllocatesOnce(t *testing.T) {
	tr := trace.New(discardExporter{}, trace.WithQueueSize(1<<14))
	defer tr.Shutdown(context.Background())
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		_, s := tr.Start(ctx, "op", trace.Client)
		s.SetTag("db.system", "redis")
		s.SetTag("db.operation.name", "GET")
		s.End()
	}); n > 1 {
		t.Errorf("sampled span: %v allocs", n)
	}
	if st := tr.Stats(); st.Dropped != 0 {
		t.Errorf("stats %+v: the queue dropped spans, so the run did not measure an enqueue", st)
	}
}

type discardExporter struct{}

func (discardExporter) Export(context.Context, []*trace.SpanData) error { return nil }
func (discardExporter) Close() error                                    { return nil }

// The default clock reads only the monotonic clock on the hot path; the
// times it gives are still wall-clock times, within a millisecond of
// time.Now's, and a span never ends before it starts.
func TestDefaultClockGivesWallTimes(t *testing.T) {
	tr, rec := trace.NewMemory()
	for range 3 {
		before := time.Now()
		_, s := tr.Start(context.Background(), "timed")
		s.AddEvent("mid")
		s.End()
		after := time.Now()
		spans := rec.Spans()
		d := spans[len(spans)-1]
		if d.Start.Before(before.Add(-time.Millisecond)) || d.End.After(after.Add(time.Millisecond)) || d.End.Before(d.Start) ||
			d.Events[0].Time.Before(d.Start) || d.Events[0].Time.After(d.End) {
			t.Fatalf("span [%v, %v] event %v, read between %v and %v", d.Start, d.End, d.Events[0].Time, before, after)
		}
	}
}

func TestSpanContextPacks(t *testing.T) {
	if n := unsafe.Sizeof(trace.SpanContext{}); n != 48 {
		t.Errorf("SpanContext is %d bytes, want 48: keep its one-byte fields together", n)
	}
}
