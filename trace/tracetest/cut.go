package tracetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/microos/go-os/trace"
)

// testPathCutMidLoad: spans reach the backend until the path to it is cut
// in the middle of a load; from then on they are dropped and counted, and
// End does not wait; once the path is restored spans reach the backend
// again. Every span the tracer counts as exported is read back from the
// backend, phase by phase (one trace each), and exported + dropped ==
// ended (a batch that failed past its retries is counted in Dropped).
func testPathCutMidLoad(t *testing.T, h *harness) {
	const queue, load = 256, 2000
	tr := h.tracer(trace.WithQueueSize(queue), trace.WithBatchSize(64), trace.WithFlushInterval(5*time.Millisecond),
		trace.WithMaxRetries(1), trace.WithExportTimeout(2*time.Second))
	ended := 0
	flush := func() {
		if err := tr.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	// phase ends load children of one root as fast as it can (a tight
	// loop outpaces any backend, so some are dropped even while it is up),
	// flushes, and returns the trace and how many of its spans it exported.
	phase := func(name string, untilExported bool) (trace.TraceID, uint64) {
		before := tr.Stats().Exported
		ctx, root := tr.Start(context.Background(), name)
		if untilExported {
			// A client may take a while to reconnect (gRPC backs off):
			// probe until one span goes through.
			for deadline := time.Now().Add(15 * time.Second); tr.Stats().Exported == before && time.Now().Before(deadline); {
				_, probe := tr.Start(ctx, "probe")
				probe.End()
				ended++
				flush()
			}
		}
		lat, base := endLatencies(tr, ctx, load)
		if q := tr.Stats().Queued; q > queue {
			t.Errorf("%s: queue holds %d spans, bound %d", name, q, queue)
		}
		checkEndDoesNotWait(t, name, lat, base)
		root.End()
		ended += load + 1
		flush()
		return root.SpanContext().TraceID, tr.Stats().Exported - before
	}

	upID, upExported := phase("before-cut", false)
	h.b.Path.Stop()
	cutID, cutExported := phase("while-cut", false)
	failedWhileCut := tr.Stats().FailedExports
	h.b.Path.Start()
	backID, backExported := phase("after-restore", true)
	if err := tr.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	t.Logf("exported %d before the cut, %d during, %d after the restore; stats %+v", upExported, cutExported, backExported, st)
	if st.Exported+st.Dropped != uint64(ended) {
		t.Errorf("exported %d + dropped %d != %d spans ended", st.Exported, st.Dropped, ended)
	}
	if upExported == 0 || cutExported != 0 || backExported == 0 || failedWhileCut == 0 {
		t.Errorf("exported %d / %d / %d (before / during / after the cut), %d failed exports during it: want some, none, some, some",
			upExported, cutExported, backExported, failedWhileCut)
	}
	for _, ph := range []struct {
		name     string
		id       trace.TraceID
		exported uint64
	}{{"before the cut", upID, upExported}, {"after the restore", backID, backExported}, {"while cut", cutID, cutExported}} {
		spans, err := h.b.Read(ctxT(t), ph.id, int(ph.exported))
		if err != nil {
			t.Fatalf("%s: %v", ph.name, err)
		}
		seen := map[trace.SpanID]bool{}
		for _, d := range spans {
			seen[d.SpanID] = true
		}
		if uint64(len(spans)) != ph.exported || len(seen) != len(spans) {
			t.Errorf("%s: the backend has %d spans (%d distinct) of the trace, the tracer counted %d exported",
				ph.name, len(spans), len(seen), ph.exported)
		}
	}
}

// endLatencies starts and ends n sampled children of ctx's span on tr
// and, interleaved span by span, on a baseline tracer whose exporter
// discards in process, and returns how long each End took on each,
// sorted. Interleaving makes a burst of load on a shared machine land on
// both sides alike.
func endLatencies(tr *trace.Tracer, ctx context.Context, n int) (got, baseline []time.Duration) {
	base := trace.New(discard{}, trace.WithQueueSize(n+1))
	defer base.Shutdown(context.Background())
	got, baseline = make([]time.Duration, n), make([]time.Duration, n)
	for i := range n {
		_, s := tr.Start(ctx, "load")
		t0 := time.Now()
		s.End()
		got[i] = time.Since(t0)
		_, b := base.Start(context.Background(), "load")
		t0 = time.Now()
		b.End()
		baseline[i] = time.Since(t0)
	}
	slices.Sort(got)
	slices.Sort(baseline)
	return got, baseline
}

type discard struct{}

func (discard) Export(context.Context, []*trace.SpanData) error { return nil }
func (discard) Close() error                                    { return nil }

func p99(d []time.Duration) time.Duration { return d[len(d)*99/100] }

// checkEndDoesNotWait fails the test when End is slower at p99 than End on
// an exporter that cannot fail, measured alongside, by more than a factor
// that -race and a loaded machine cannot explain: an End that waited on
// the network would take a connection attempt or the export timeout. The
// slack absorbs p99s of a microsecond or less, where a ratio means
// nothing; bench/ measures the real figures.
func checkEndDoesNotWait(t *testing.T, what string, got, baseline []time.Duration) {
	t.Helper()
	limit := 10*p99(baseline) + 200*time.Microsecond
	if p99(got) > limit {
		t.Errorf("%s: p99 End %v, baseline p99 %v measured alongside (limit %v): End waits", what, p99(got), p99(baseline), limit)
	}
}

// EndLatencies and CheckEndDoesNotWait are the suite's End timing, for an
// adapter's own failure tests: End latencies on tr beside a discarding
// baseline, and the check that End did not wait.
func EndLatencies(tr *trace.Tracer, n int) (got, baseline []time.Duration) {
	return endLatencies(tr, context.Background(), n)
}

// CheckEndDoesNotWait: see EndLatencies.
func CheckEndDoesNotWait(t *testing.T, what string, got, baseline []time.Duration) {
	t.Helper()
	checkEndDoesNotWait(t, what, got, baseline)
}
