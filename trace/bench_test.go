package trace_test

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/microos/go-os/trace"
)

// discard accepts every batch at once, so that the benchmarks measure the
// caller's side: start, end and enqueue.
type discard struct{}

func (discard) Export(context.Context, []*trace.SpanData) error { return nil }
func (discard) Close() error                                    { return nil }

// cpuTime is the process's CPU time (user and system, every thread: the
// export goroutine and the GC count too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op, the process's CPU time per operation, to a
// benchmark: on a shared machine ns/op counts the time other processes
// held the cores, CPU time only what this one spent.
func reportCPU(b *testing.B) func() {
	t0 := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-t0)/float64(b.N), "cpu-ns/op") }
}

func BenchmarkStartEnd(b *testing.B) {
	ctx := context.Background()
	b.Run("noop", func(b *testing.B) {
		tr := trace.Noop()
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			_, s := tr.Start(ctx, "op")
			s.End()
		}
	})
	b.Run("unsampled-child", func(b *testing.B) {
		tr := trace.New(discard{}, trace.WithSampler(trace.Never()))
		defer tr.Shutdown(ctx)
		pctx, root := tr.Start(ctx, "root")
		defer root.End()
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			_, s := tr.Start(pctx, "op")
			s.End()
		}
	})
	b.Run("unsampled-root", func(b *testing.B) {
		tr := trace.New(discard{}, trace.WithSampler(trace.Never()))
		defer tr.Shutdown(ctx)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			_, s := tr.Start(ctx, "op")
			s.End()
		}
	})
	b.Run("sampled-enqueue", func(b *testing.B) {
		tr := trace.New(discard{}, trace.WithQueueSize(1<<16))
		defer tr.Shutdown(ctx)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			_, s := tr.Start(ctx, "op")
			s.End()
		}
	})
	b.Run("sampled-2tags", func(b *testing.B) {
		tr := trace.New(discard{}, trace.WithQueueSize(1<<16))
		defer tr.Shutdown(ctx)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			_, s := tr.Start(ctx, "op", trace.Client)
			s.SetTag("db.system", "redis")
			s.SetTag("db.op", "GET")
			s.End()
		}
	})
}

func BenchmarkExtract(b *testing.B) {
	for name, hdr := range map[string][2]string{
		"traceparent": {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"b3":          {"b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"},
	} {
		b.Run(name, func(b *testing.B) {
			h := http.Header{}
			h.Set(hdr[0], hdr[1])
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := trace.Extract(h); !ok {
					b.Fatal("not extracted")
				}
			}
		})
	}
}

func BenchmarkInject(b *testing.B) {
	sc, _ := trace.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		trace.Inject(sc, h, trace.W3C)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	tr := trace.New(discard{}, trace.WithQueueSize(1<<14))
	defer tr.Shutdown(context.Background())
	h := trace.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/orders/1", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := nopWriter{}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return nil }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}
