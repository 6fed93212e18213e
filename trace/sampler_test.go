package trace_test

import (
	"context"
	"testing"

	"github.com/microos/go-os/trace"
)

func TestProbabilityIsAFunctionOfTheTraceID(t *testing.T) {
	s := trace.Probability(0.25)
	tr, _ := trace.NewMemory(trace.WithSampler(s))
	sampled := 0
	const n = 20000
	for range n {
		_, sp := tr.Start(context.Background(), "x")
		id := sp.SpanContext().TraceID
		if sp.SpanContext().IsSampled() {
			sampled++
		}
		if got := s.Sample(trace.SamplingParams{TraceID: id}); got != sp.SpanContext().IsSampled() {
			t.Fatalf("trace %s: decision not repeatable", id)
		}
	}
	if frac := float64(sampled) / n; frac < 0.22 || frac > 0.28 {
		t.Errorf("sampled %.3f, want about 0.25", frac)
	}
	for _, p := range []float64{-1, 0} {
		if trace.Probability(p).Sample(trace.SamplingParams{}) {
			t.Errorf("Probability(%v) sampled", p)
		}
	}
	if !trace.Probability(1).Sample(trace.SamplingParams{}) {
		t.Error("Probability(1) did not sample")
	}
}

func TestRateLimited(t *testing.T) {
	s := trace.RateLimited(100)
	got := 0
	for range 1000 { // far faster than 100/s: only the one-second burst passes
		if s.Sample(trace.SamplingParams{}) {
			got++
		}
	}
	if got < 100 || got > 102 {
		t.Errorf("%d sampled in a burst, want 100", got)
	}
	if trace.RateLimited(0).Sample(trace.SamplingParams{}) {
		t.Error("RateLimited(0) sampled")
	}
	// Under one trace a second, the first one still passes.
	half := trace.RateLimited(0.5)
	got = 0
	for range 100 {
		if half.Sample(trace.SamplingParams{}) {
			got++
		}
	}
	if got != 1 {
		t.Errorf("RateLimited(0.5) sampled %d of a burst of 100, want 1", got)
	}
}

func TestParentBased(t *testing.T) {
	s := trace.ParentBased(trace.Never())
	for sampling, want := range map[trace.Sampling]bool{trace.Accept: true, trace.Deny: false, trace.Deferred: false} {
		if got := s.Sample(trace.SamplingParams{Parent: trace.SpanContext{Sampling: sampling}}); got != want {
			t.Errorf("parent %v: %v, want %v", sampling, got, want)
		}
	}
	if !trace.ParentBased(trace.Always()).Sample(trace.SamplingParams{}) {
		t.Error("root of ParentBased(Always) not sampled")
	}
}

func TestDebugForcesSampling(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithSampler(trace.Never()))
	ctx, s := tr.Start(context.Background(), "debug", trace.WithDebug())
	_, child := tr.Start(ctx, "child")
	child.End()
	s.End()
	if len(rec.Spans()) != 2 || !rec.Spans()[0].Debug {
		t.Errorf("debug trace: %+v", rec.Spans())
	}
	// A caller's debug flag forces it too.
	remote := trace.SpanContext{Sampling: trace.Accept, Debug: true}
	remote.TraceID, _ = trace.ParseTraceID(tid)
	remote.SpanID, _ = trace.ParseSpanID(sid)
	_, joined := tr.Start(context.Background(), "joined", trace.WithParent(remote))
	if !joined.IsRecording() {
		t.Error("a span joining a debug caller is not recorded")
	}
}

func TestParseSampler(t *testing.T) {
	for in, want := range map[string]bool{"always": true, "never": false, "1": true, "0": false, "root:always": true, "10/s": true} {
		s, err := trace.ParseSampler(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := s.Sample(trace.SamplingParams{}); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
	// ParentBased unless root: says otherwise.
	deny := trace.SamplingParams{Parent: trace.SpanContext{Sampling: trace.Deny}}
	if s, _ := trace.ParseSampler("always"); s.Sample(deny) {
		t.Error("always did not honour the caller's deny")
	}
	if s, _ := trace.ParseSampler("root:always"); !s.Sample(deny) {
		t.Error("root:always honoured the caller")
	}
	for _, bad := range []string{"", "often", "1.5", "-1", "x/s", "-3/s", "NaN"} {
		if _, err := trace.ParseSampler(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// ParseSampler reads configuration: it must reject, never panic.
func FuzzParseSampler(f *testing.F) {
	for _, s := range []string{"always", "never", "0.25", "100/s", "root:0.5", "1e309/s", "-0", "root:root:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sm, err := trace.ParseSampler(s); err == nil {
			sm.Sample(trace.SamplingParams{})
		}
	})
}
