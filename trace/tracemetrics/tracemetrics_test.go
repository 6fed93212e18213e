package tracemetrics_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracemetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// refusing is a collector that rejects every batch.
type refusing struct{}

func (refusing) Export(context.Context, []*trace.SpanData) error {
	return errors.Join(trace.ErrRejected, errors.New("400 bad request"))
}
func (refusing) Close() error { return nil }

func TestDroppedSpansReachMetrics(t *testing.T) {
	ctx := context.Background()
	m := metrics.NewMemory()
	defer m.Close()
	tr := trace.New(refusing{}, trace.WithService("api", "", ""), trace.WithSampler(trace.Always()), trace.WithFlushInterval(time.Millisecond))
	pub := tracemetrics.Publish(tr, m, time.Hour)
	for i := 0; i < 20; i++ {
		_, span := tr.Start(ctx, "work")
		span.End()
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	pub.Flush()
	pub.Flush() // counters add only what grew
	st := tr.Stats()
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Value("trace.dropped_total"); got != float64(st.Dropped) || st.Dropped != 20 {
		t.Errorf("trace.dropped_total = %v, tracer says %d dropped (want 20)", got, st.Dropped)
	}
	if got := snap.Value("trace.exporter_healthy"); got != 0 {
		t.Errorf("trace.exporter_healthy = %v after rejected exports, want 0", got)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	pub.Close()
	pub.Close()
}

// Flushes from several goroutines at once never make a counter jump.
func TestConcurrentFlush(t *testing.T) {
	ctx := context.Background()
	m := metrics.NewMemory()
	defer m.Close()
	rec := trace.NewRecorder()
	tr := trace.New(rec, trace.WithSampler(trace.Always()), trace.WithFlushInterval(time.Millisecond))
	pub := tracemetrics.Publish(tr, m, time.Hour)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				_, span := tr.Start(ctx, "work")
				span.End()
				pub.Flush()
			}
		})
	}
	wg.Wait()
	tr.Shutdown(ctx)
	pub.Close()
	snap, _ := m.Snapshot()
	if got, want := snap.Value("trace.exported_total"), float64(tr.Stats().Exported); got != want {
		t.Fatalf("trace.exported_total = %v, tracer exported %v", got, want)
	}
}
