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

// endLatencies starts and ends n sampled spans and returns how long each
// End took, sorted.
func endLatencies(tr *trace.Tracer, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		_, s := tr.Start(context.Background(), "load")
		t0 := time.Now()
		s.End()
		out[i] = time.Since(t0)
	}
	slices.Sort(out)
	return out
}

func p99(d []time.Duration) time.Duration { return d[len(d)*99/100] }

// The bound only proves that End never waits on the network (a blocking
// End would take the export timeout, seconds): it is loose because -race
// and a shared machine slow every call; bench/ measures the real figure.
const maxP99 = time.Millisecond

func TestCollectorDown(t *testing.T) {
	exp, err := zipkintrace.New("http://" + testenv.FreePort(t) + "/api/v2/spans")
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithQueueSize(64), trace.WithBatchSize(16), trace.WithFlushInterval(time.Millisecond), trace.WithMaxRetries(1))
	lat := endLatencies(tr, 2000)
	if p := p99(lat); p > maxP99 {
		t.Errorf("p99 End with the collector down: %v", p)
	}
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
	lat := endLatencies(tr, 1000)
	if p := p99(lat); p > maxP99 {
		t.Errorf("p99 End with a hanging collector: %v", p)
	}
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
// counted, End stays fast, the queue stays within its bound, and the spans
// sent before the cut are queryable.
func TestCollectorKilledMidLoad(t *testing.T) {
	spansURL, queryURL := testenv.Zipkin(t)
	u := must(http.NewRequest(http.MethodPost, spansURL, nil)).URL
	p := testenv.NewProxy(t, u.Host)
	p.Start()
	u.Host = p.Addr()
	exp, _ := zipkintrace.New(u.String())
	const queue = 256
	tr := trace.New(exp, trace.WithService("killed-mid-load", "", ""), trace.WithQueueSize(queue), trace.WithBatchSize(64),
		trace.WithFlushInterval(5*time.Millisecond), trace.WithMaxRetries(1))

	_, first := tr.Start(context.Background(), "before-kill")
	first.End()
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	before := endLatencies(tr, 2000)
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	exportedBefore := tr.Stats().Exported
	p.Stop()
	after := endLatencies(tr, 2000)
	if st := tr.Stats(); st.Queued > queue {
		t.Errorf("queue holds %d spans, bound %d", st.Queued, queue)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tr.Shutdown(ctx)
	st := tr.Stats()
	t.Logf("p99 End: %v with the collector up, %v after the kill; stats %+v", p99(before), p99(after), st)
	if p := p99(after); p > maxP99 {
		t.Errorf("p99 End after the kill: %v", p)
	}
	// A tight loop outpaces any collector, so some spans are dropped even
	// before the kill; none is exported after it, and every one is counted.
	if st.Exported != exportedBefore || exportedBefore == 0 || st.Exported+st.Dropped != 4001 {
		t.Errorf("stats %+v, %d exported before the kill: want nothing exported after it and all 4001 counted", st, exportedBefore)
	}
	spans, err := jaegerquery.Reader(queryURL)(ctxT(t), first.SpanContext().TraceID, 1)
	if err != nil || len(spans) != 1 {
		t.Errorf("span sent before the kill: %+v, %v", spans, err)
	}
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
