package zipkintrace_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/internal/jaegerquery"
	"github.com/microos/go-os/trace/zipkintrace"
)

// endLatencies starts and ends n sampled spans on tr and, interleaved
// span by span, on a baseline tracer whose exporter discards in process,
// and returns how long each End took on each, sorted. Interleaving makes a
// burst of load on a shared machine land on both sides alike.
func endLatencies(tr *trace.Tracer, n int) (got, baseline []time.Duration) {
	return endLatenciesIn(tr, context.Background(), n)
}

type discard struct{}

func (discard) Export(context.Context, []*trace.SpanData) error { return nil }
func (discard) Close() error                                    { return nil }

func p99(d []time.Duration) time.Duration { return d[len(d)*99/100] }

// checkEndDoesNotWait fails the test when End against a failing collector
// is slower at p99 than End against an exporter that cannot fail, measured
// alongside, by more than a factor that -race and a loaded machine cannot
// explain: an End that waited on the network would take a connection
// attempt or the export timeout. The slack absorbs p99s of a microsecond
// or less, where a ratio means nothing; bench/ measures the real figures.
func checkEndDoesNotWait(t *testing.T, what string, got, baseline []time.Duration) {
	t.Helper()
	limit := 10*p99(baseline) + 200*time.Microsecond
	t.Logf("%s: p99 End %v, baseline p99 %v, limit %v", what, p99(got), p99(baseline), limit)
	if p99(got) > limit {
		t.Errorf("%s: p99 End %v, baseline p99 %v measured alongside: End waits", what, p99(got), p99(baseline))
	}
}

func TestCollectorDown(t *testing.T) {
	exp, err := zipkintrace.New("http://" + testenv.FreePort(t) + "/api/v2/spans")
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithQueueSize(64), trace.WithBatchSize(16), trace.WithFlushInterval(time.Millisecond), trace.WithMaxRetries(1))
	lat, base := endLatencies(tr, 2000)
	checkEndDoesNotWait(t, "collector down", lat, base)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	tr.Shutdown(ctx)
	st := tr.Stats()
	if st.Exported != 0 || st.Dropped != 2000 {
		t.Errorf("stats %+v, want all 2000 spans dropped", st)
	}
	if !errors.Is(st.LastError, trace.ErrUnavailable) {
		t.Errorf("LastError %v, want ErrUnavailable", st.LastError)
	}
	var ee *trace.ExportError
	if !errors.As(st.LastError, &ee) || ee.Spans == 0 {
		t.Errorf("LastError %#v, want an *ExportError", st.LastError)
	}
}

// TestCollectorHangs: a collector that accepts the connection and never
// answers must cost neither the caller's End nor Close more than Close's
// deadline, and leave no goroutine behind (TestMain checks).
func TestCollectorHangs(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	exp, err := zipkintrace.New(hang.URL + "/api/v2/spans")
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithQueueSize(100), trace.WithBatchSize(10), trace.WithFlushInterval(time.Millisecond))
	lat, base := endLatencies(tr, 1000)
	checkEndDoesNotWait(t, "collector hangs", lat, base)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err = tr.Shutdown(ctx)
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("Close took %v with a 200ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want DeadlineExceeded", err)
	}
	if st := tr.Stats(); st.Exported != 0 || st.Dropped != 1000 || st.Queued != 0 {
		t.Errorf("stats %+v, want all 1000 dropped", st)
	}
}

func TestCollectorRejects(t *testing.T) {
	var calls sync.WaitGroup
	calls.Add(1)
	var once sync.Once
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "malformed span", http.StatusBadRequest)
		once.Do(calls.Done)
	}))
	defer bad.Close()
	exp, _ := zipkintrace.New(bad.URL + "/api/v2/spans")
	tr := trace.New(exp, trace.WithMaxRetries(3))
	_, s := tr.Start(context.Background(), "x")
	s.End()
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	calls.Wait()
	tr.Shutdown(ctxT(t))
	st := tr.Stats()
	var se *zipkintrace.StatusError
	if !errors.Is(st.LastError, trace.ErrRejected) || !errors.As(st.LastError, &se) || se.Code != 400 {
		t.Errorf("LastError %v, want ErrRejected with status 400", st.LastError)
	}
	if st.FailedExports != 1 || st.Dropped != 1 {
		t.Errorf("stats %+v: a rejected batch is not retried, and is counted dropped", st)
	}
}

// TestCollectorKilledMidLoad: spans reach the real collector until the path
// to it is cut in the middle of a load; from then on they are dropped and
// counted and End does not wait; once the path is restored spans reach the
// collector again. Every span the tracer counts as exported is read back
// from the collector's query API, phase by phase (one trace each), and
// exported + dropped == ended (a batch that failed past its retries is
// counted in Dropped).
func TestCollectorKilledMidLoad(t *testing.T) {
	spansURL, queryURL := testenv.Zipkin(t)
	u := must(http.NewRequest(http.MethodPost, spansURL, nil)).URL
	p := testenv.NewProxy(t, u.Host)
	p.Start()
	u.Host = p.Addr()
	exp, _ := zipkintrace.New(u.String())
	const queue, load = 256, 2000
	tr := trace.New(exp, trace.WithService("killed-mid-load", "", ""), trace.WithQueueSize(queue), trace.WithBatchSize(64),
		trace.WithFlushInterval(5*time.Millisecond), trace.WithMaxRetries(1))
	ended := 0
	// phase ends load spans in one trace as fast as it can (a tight loop
	// outpaces any collector, so some are dropped even while it is up),
	// flushes, and returns the trace and how many spans it exported.
	phase := func(name string) (trace.TraceID, uint64, []time.Duration, []time.Duration) {
		before := tr.Stats().Exported
		ctx, root := tr.Start(context.Background(), name)
		lat, base := endLatenciesIn(tr, ctx, load)
		if q := tr.Stats().Queued; q > queue {
			t.Errorf("%s: queue holds %d spans, bound %d", name, q, queue)
		}
		root.End()
		ended += load + 1
		if err := tr.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		return root.SpanContext().TraceID, tr.Stats().Exported - before, lat, base
	}

	upID, upExported, upLat, upBase := phase("before-cut")
	p.Stop()
	cutID, cutExported, cutLat, cutBase := phase("while-cut")
	failedWhileCut := tr.Stats().FailedExports
	p.Start()
	backID, backExported, _, _ := phase("after-restore")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	t.Logf("exported %d before the cut, %d during, %d after the restore; stats %+v", upExported, cutExported, backExported, st)
	checkEndDoesNotWait(t, "collector up", upLat, upBase)
	checkEndDoesNotWait(t, "path cut", cutLat, cutBase)
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
		spans, err := jaegerquery.Reader(queryURL)(ctxT(t), ph.id, int(ph.exported))
		if err != nil {
			t.Fatalf("%s: %v", ph.name, err)
		}
		seen := map[trace.SpanID]bool{}
		for _, d := range spans {
			seen[d.SpanID] = true
		}
		if uint64(len(spans)) != ph.exported || len(seen) != len(spans) {
			t.Errorf("%s: the collector has %d spans (%d distinct) of the trace, the tracer counted %d exported",
				ph.name, len(spans), len(seen), ph.exported)
		}
	}
}

// endLatenciesIn is endLatencies with the spans children of ctx's span.
func endLatenciesIn(tr *trace.Tracer, ctx context.Context, n int) (got, baseline []time.Duration) {
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

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCollectorRecovers: a 503 is retried with backoff, and the batch
// arrives once the collector is back.
func TestCollectorRecovers(t *testing.T) {
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer flaky.Close()
	exp, _ := zipkintrace.New(flaky.URL + "/api/v2/spans")
	tr := trace.New(exp)
	_, s := tr.Start(context.Background(), "x")
	s.End()
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	tr.Shutdown(ctxT(t))
	st := tr.Stats()
	if st.Exported != 1 || st.FailedExports != 1 || st.Dropped != 0 || st.LastError != nil || calls.Load() != 2 {
		t.Errorf("stats %+v after %d calls, want one failure then the span exported", st, calls.Load())
	}
}
