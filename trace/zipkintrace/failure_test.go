package zipkintrace_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracetest"
	"github.com/microos/go-os/trace/zipkintrace"
)

func TestCollectorDown(t *testing.T) {
	exp, err := zipkintrace.New("http://" + testenv.FreePort(t) + "/api/v2/spans")
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithQueueSize(64), trace.WithBatchSize(16), trace.WithFlushInterval(time.Millisecond), trace.WithMaxRetries(1))
	lat, base := tracetest.EndLatencies(tr, 2000)
	tracetest.CheckEndDoesNotWait(t, "collector down", lat, base)
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
	lat, base := tracetest.EndLatencies(tr, 1000)
	tracetest.CheckEndDoesNotWait(t, "collector hangs", lat, base)
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
