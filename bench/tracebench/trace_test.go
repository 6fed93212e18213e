// Package tracebench compares go-os trace with zipkin-go and the
// OpenTelemetry SDK, side by side in one run:
//
//	cd bench && go test -run Compare -v ./tracebench/
package tracebench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	zipkin "github.com/openzipkin/zipkin-go"
	zipkinhttp "github.com/openzipkin/zipkin-go/reporter/http"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/zipkintrace"
)

// discard is an exporter that accepts every batch at once.
type discard struct{}

func (discard) Export(context.Context, []*trace.SpanData) error { return nil }
func (discard) Close() error                                    { return nil }

// collector is a Zipkin endpoint on loopback that reads and discards.
func collector(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ours(tr *trace.Tracer, ctx context.Context) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, s := tr.Start(ctx, "op")
			s.End()
		}
	}
}

func zipkinGo(zt *zipkin.Tracer, ctx context.Context) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, _ := zt.StartSpanFromContext(ctx, "op")
			s.Finish()
		}
	}
}

func otel(ot oteltrace.Tracer, ctx context.Context) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, s := ot.Start(ctx, "op")
			s.End()
		}
	}
}

func TestCompare(t *testing.T) {
	// Seven cases of two sides each: 200ms a side keeps the run short on a
	// shared machine. An explicit -benchtime wins.
	if f := flag.Lookup("test.benchtime"); f != nil && f.Value.String() == f.DefValue {
		flag.Set("test.benchtime", "200ms")
	}
	ctx := context.Background()
	srv := collector(t)
	quiet := zipkinhttp.Logger(log.New(io.Discard, "", 0))

	// Unsampled: a root span, and a span inside an unsampled trace (what
	// every instrumented call of an unsampled request pays).
	trNever := trace.New(discard{}, trace.WithSampler(trace.Never()))
	defer trNever.Shutdown(ctx)
	zNever, _ := zipkin.NewTracer(zipkinhttp.NewReporter(srv.URL, quiet), zipkin.WithSampler(zipkin.NeverSample))
	otNeverTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer otNeverTP.Shutdown(ctx)
	otNever := otNeverTP.Tracer("bench")

	oursParent, oursRoot := trNever.Start(ctx, "parent")
	defer oursRoot.End()
	zRoot, zParent := zNever.StartSpanFromContext(ctx, "parent")
	defer zRoot.Finish()
	otParent, otRoot := otNever.Start(ctx, "parent")
	defer otRoot.End()

	// Sampled: start, end and hand to the export queue, through each
	// library's asynchronous pipeline: ours and OpenTelemetry's batch
	// processor in front of a discarding exporter; zipkin-go's HTTP reporter
	// (its only queue) posting to a discarding collector on loopback.
	trAlways := trace.New(discard{}, trace.WithQueueSize(1<<14))
	defer trAlways.Shutdown(ctx)
	zRep := zipkinhttp.NewReporter(srv.URL, quiet)
	defer zRep.Close()
	zAlways, _ := zipkin.NewTracer(zRep, zipkin.WithSampler(zipkin.AlwaysSample))
	otAlwaysTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter(), sdktrace.WithMaxQueueSize(1<<14)))
	defer otAlwaysTP.Shutdown(ctx)
	otAlways := otAlwaysTP.Tracer("bench")

	// Sampled, to a Zipkin collector: ours through zipkintrace.
	zexp, err := zipkintrace.New(srv.URL + "/api/v2/spans")
	if err != nil {
		t.Fatal(err)
	}
	trZipkin := trace.New(zexp, trace.WithQueueSize(1<<14))
	defer trZipkin.Shutdown(ctx)

	compare.Run(t,
		compare.Case{Name: "trace/unsampled-root vs zipkin-go", Ours: ours(trNever, ctx), Peer: zipkinGo(zNever, ctx)},
		compare.Case{Name: "trace/unsampled-root vs otel", Ours: ours(trNever, ctx), Peer: otel(otNever, ctx)},
		compare.Case{Name: "trace/unsampled-child vs zipkin-go", Ours: ours(trNever, oursParent), Peer: zipkinGo(zNever, zParent)},
		compare.Case{Name: "trace/unsampled-child vs otel", Ours: ours(trNever, oursParent), Peer: otel(otNever, otParent)},
		compare.Case{Name: "trace/sampled-enqueue vs zipkin-go", Ours: ours(trAlways, ctx), Peer: zipkinGo(zAlways, ctx)},
		compare.Case{Name: "trace/sampled-enqueue vs otel", Ours: ours(trAlways, ctx), Peer: otel(otAlways, ctx)},
		compare.Case{Name: "trace/sampled-zipkin-http vs zipkin-go", Ours: ours(trZipkin, ctx), Peer: zipkinGo(zAlways, ctx)},
	)
}

// TestCollectorDownLatency serves requests through trace.Middleware, with
// the collector killed halfway through the load, and prints the added
// latency per request (p50/p99 against the same handler without tracing)
// and the heap before and after: the service must not notice the collector
// going away, and memory must stay bounded by the queue.
func TestCollectorDownLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	exp, err := zipkintrace.New(srv.URL + "/api/v2/spans")
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(exp, trace.WithService("load", "", ""), trace.WithQueueSize(2048), trace.WithFlushInterval(10*time.Millisecond))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, s := tr.Start(r.Context(), "work")
		s.End()
	})
	traced := trace.Middleware(tr)(handler)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

	const n = 20000
	measure := func(h http.Handler) []time.Duration {
		out := make([]time.Duration, n)
		req := httptest.NewRequest(http.MethodGet, "/orders/1", nil)
		for i := range out {
			w := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(w, req)
			out[i] = time.Since(t0)
		}
		slices.Sort(out)
		return out
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := measure(bare)
	up := measure(traced)
	heapUp := heap()
	srv.CloseClientConnections()
	srv.Close() // the collector dies mid-load
	down := measure(traced)
	down2 := measure(traced)
	heapDown := heap()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	tr.Shutdown(ctx)
	st := tr.Stats()
	p := func(d []time.Duration, q int) time.Duration { return d[len(d)*q/100] }
	fmt.Printf("%-44s %10s %10s\n", "collector-down load (per request)", "p50", "p99")
	fmt.Printf("%-44s %10v %10v\n", "untraced handler", p(base, 50), p(base, 99))
	fmt.Printf("%-44s %10v %10v\n", "traced, collector up", p(up, 50), p(up, 99))
	fmt.Printf("%-44s %10v %10v\n", "traced, collector down", p(down, 50), p(down, 99))
	fmt.Printf("%-44s %10v %10v\n", "traced, collector down (second run)", p(down2, 50), p(down2, 99))
	fmt.Printf("%-44s %10v %10v\n", "added p99 with the collector down", "", p(down, 99)-p(base, 99))
	fmt.Printf("heap after the up phase %d KiB, after two down phases %d KiB; exported %d, dropped %d\n",
		heapUp>>10, heapDown>>10, st.Exported, st.Dropped)
	if st.Dropped == 0 {
		t.Errorf("nothing dropped with the collector down: %+v", st)
	}
	if heapDown > heapUp+8<<20 {
		t.Errorf("heap grew from %d to %d KiB with the collector down", heapUp>>10, heapDown>>10)
	}
}
