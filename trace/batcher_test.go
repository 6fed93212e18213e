package trace_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/microos/go-os/trace"
)

// gate is an exporter that blocks every Export until released (or its ctx
// ends) and fails the first failures calls with ErrUnavailable.
type gate struct {
	release  chan struct{}
	failures atomic.Int32
	mu       sync.Mutex
	got      int
	calls    int
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) Export(ctx context.Context, spans []*trace.SpanData) error {
	select {
	case <-g.release:
	case <-ctx.Done():
		return trace.Unavailable(ctx.Err())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.failures.Add(-1) >= 0 {
		return trace.Unavailable(errors.New("flaky"))
	}
	g.got += len(spans)
	return nil
}

func (g *gate) Close() error { return nil }

func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	g := newGate()
	tr := trace.New(g, trace.WithQueueSize(10), trace.WithBatchSize(5))
	for range 100 {
		_, s := tr.Start(context.Background(), "x")
		s.End() // the exporter is blocked: End must still return
	}
	st := tr.Stats()
	// The goroutine holds at most one queue's worth, the queue 10 more:
	// the rest was dropped.
	if st.Dropped < 100-2*10 || st.Queued > 10 {
		t.Errorf("stats %+v", st)
	}
	close(g.release)
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = tr.Stats()
	if int(st.Exported)+int(st.Dropped) != 100 || int(st.Exported) != g.got {
		t.Errorf("stats %+v, exporter got %d", st, g.got)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	g := newGate()
	close(g.release)
	g.failures.Store(2)
	tr := trace.New(g, trace.WithMaxRetries(2))
	_, s := tr.Start(context.Background(), "x")
	s.End()
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	if st.Exported != 1 || st.FailedExports != 2 || st.LastError != nil || g.calls != 3 {
		t.Errorf("stats %+v, %d calls", st, g.calls)
	}
	tr.Shutdown(context.Background())
}

func TestRetriesExhausted(t *testing.T) {
	g := newGate()
	close(g.release)
	g.failures.Store(100)
	var logged atomic.Int32
	tr := trace.New(g, trace.WithMaxRetries(1), trace.WithLogger(newCountingLogger(&logged)))
	_, s := tr.Start(context.Background(), "x")
	s.End()
	tr.Flush(context.Background())
	st := tr.Stats()
	if st.Dropped != 1 || st.FailedExports != 2 || !errors.Is(st.LastError, trace.ErrUnavailable) || logged.Load() != 2 {
		t.Errorf("stats %+v, %d log lines", st, logged.Load())
	}
	tr.Shutdown(context.Background())
}

func TestCloseHonoursDeadline(t *testing.T) {
	g := newGate() // never released: Export waits for its ctx
	tr := trace.New(g)
	for range 10 {
		_, s := tr.Start(context.Background(), "x")
		s.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err := tr.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > time.Second {
		t.Errorf("Close: %v after %v", err, time.Since(t0))
	}
	if st := tr.Stats(); st.Dropped != 10 {
		t.Errorf("stats %+v", st)
	}
	if !errors.Is(tr.Flush(context.Background()), trace.ErrClosed) {
		t.Error("Flush after Close")
	}
}

func TestFlushHonoursContext(t *testing.T) {
	g := newGate()
	tr := trace.New(g)
	_, s := tr.Start(context.Background(), "x")
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tr.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush: %v", err)
	}
	close(g.release)
	tr.Shutdown(context.Background())
}

func TestConcurrentEndAndClose(t *testing.T) {
	g := newGate()
	close(g.release)
	tr := trace.New(g, trace.WithQueueSize(64))
	var wg sync.WaitGroup
	var ended atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				_, s := tr.Start(context.Background(), fmt.Sprint(w, i))
				s.End()
				ended.Add(1)
			}
		})
	}
	time.AfterFunc(time.Millisecond, func() { tr.Shutdown(context.Background()) })
	wg.Wait()
	tr.Shutdown(context.Background())
	st := tr.Stats()
	if int64(st.Exported+st.Dropped) != ended.Load() {
		t.Errorf("stats %+v, %d ended: every span must be exported or counted", st, ended.Load())
	}
}

func newCountingLogger(n *atomic.Int32) *slog.Logger {
	return slog.New(countingHandler{n})
}

type countingHandler struct{ n *atomic.Int32 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h countingHandler) Handle(context.Context, slog.Record) error { h.n.Add(1); return nil }
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h countingHandler) WithGroup(string) slog.Handler             { return h }

// weakRecorder keeps weak pointers to the spans of each batch it is handed
// and, at the batch that brings the spans to last, collects garbage and
// counts the spans of the first batch still alive.
type weakRecorder struct {
	batches    [][]weak.Pointer[trace.SpanData]
	spans      int
	last       int
	aliveAtEnd int
}

func (w *weakRecorder) Export(_ context.Context, spans []*trace.SpanData) error {
	var ws []weak.Pointer[trace.SpanData]
	for _, d := range spans {
		ws = append(ws, weak.Make(d))
	}
	w.batches = append(w.batches, ws)
	w.spans += len(spans)
	if w.spans == w.last && len(w.batches) > 1 {
		runtime.GC()
		for _, p := range w.batches[0] {
			if p.Value() != nil {
				w.aliveAtEnd++
			}
		}
	}
	return nil
}

func (w *weakRecorder) Close() error { return nil }

// A batch's spans are garbage once it is sent, not once everything
// queued with it is: behind a slow collector the queue taken at once can
// be long.
func TestSentBatchesAreReleased(t *testing.T) {
	rec := &weakRecorder{last: 6}
	tr := trace.New(rec, trace.WithSampler(trace.Always()), trace.WithBatchSize(2), trace.WithQueueSize(6), trace.WithFlushInterval(time.Hour))
	defer tr.Shutdown(context.Background())
	func() {
		for range 6 {
			_, s := tr.Start(context.Background(), "s")
			s.End()
		}
	}()
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Three batches of two, or more when the batcher woke while the
	// spans were still coming: how many depends on the scheduler.
	if len(rec.batches) < 3 || rec.spans != 6 {
		t.Fatalf("%d spans in %d batches, want 6 in at least 3", rec.spans, len(rec.batches))
	}
	if rec.aliveAtEnd != 0 {
		t.Errorf("%d spans of the first batch still alive while the third was sent", rec.aliveAtEnd)
	}
}
