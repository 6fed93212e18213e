package trace_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/trace"
)

// fakeClock starts at a fixed instant and moves 1ms on every reading, and
// ids counts up, so that the examples print the same thing on every run.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
}

func ids() func() uint64 {
	var n atomic.Uint64
	return func() uint64 { return n.Add(1) }
}

func Example() {
	tr, rec := trace.NewMemory(trace.WithService("checkout", "", ""), trace.WithClock(fakeClock()), trace.WithIDSource(ids()))
	defer tr.Shutdown(context.Background())

	ctx, span := tr.Start(context.Background(), "POST /orders", trace.Server)
	_, load := tr.Start(ctx, "load cart", trace.Client, trace.WithRemote(trace.Endpoint{Service: "redis"}))
	load.End()
	_, charge := tr.Start(ctx, "charge card", trace.Client)
	charge.SetError(errors.New("card declined"))
	charge.End()
	span.End()

	trace.WriteTimeline(os.Stdout, rec.Trace(span.SpanContext().TraceID))
	// Output:
	// trace 00000000000000010000000000000002: 3 spans, 5.00ms
	//   +0.00ms  5.00ms  checkout  SERVER    POST /orders
	//   +1.00ms  1.00ms  checkout  CLIENT      load cart
	//   +3.00ms  1.00ms  checkout  CLIENT      charge card  ERROR: card declined
}

// Two services: the client's Transport sends the trace context, the
// server's Middleware joins it.
func ExampleMiddleware() {
	clock, next := fakeClock(), ids()
	front, rec := trace.NewMemory(trace.WithService("frontend", "", ""), trace.WithClock(clock), trace.WithIDSource(next))
	back := trace.New(rec, trace.WithService("inventory", "", ""), trace.WithClock(clock), trace.WithIDSource(next))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /stock/{sku}", func(w http.ResponseWriter, r *http.Request) {
		_, s := back.Start(r.Context(), "count")
		s.End()
		fmt.Fprint(w, "3 left")
	})
	srv := httptest.NewServer(trace.Middleware(back)(mux))
	defer srv.Close()
	client := &http.Client{Transport: trace.Transport(srv.Client().Transport, front)}

	ctx, page := front.Start(context.Background(), "render page")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stock/42", nil)
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	page.End()

	trace.WriteTimeline(os.Stdout, rec.Trace(page.SpanContext().TraceID))
	// Output:
	// trace 00000000000000010000000000000002: 4 spans, 7.00ms
	//   +0.00ms  7.00ms  frontend   INTERNAL  render page
	//   +1.00ms  5.00ms  frontend   CLIENT      GET /stock/42
	//   +2.00ms  3.00ms  inventory  SERVER        GET /stock/{sku}
	//   +3.00ms  1.00ms  inventory  INTERNAL        count
}

func ExampleOpen() {
	tr, err := trace.Open(context.Background(), "mem://?service=billing&sampler=always")
	if err != nil {
		panic(err)
	}
	defer tr.Shutdown(context.Background())
	_, span := tr.Start(context.Background(), "invoice")
	span.End()

	rec := tr.Exporter().(*trace.Recorder)
	d, _ := rec.Find("invoice")
	fmt.Println(d.Service, d.Name, tr.Stats().Exported)
	// Output: billing invoice 1
}

func ExampleExtract() {
	h := http.Header{}
	h.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	sc, ok := trace.Extract(h)
	fmt.Println(ok, sc.TraceID, sc.SpanID, sc.IsSampled())

	h = http.Header{}
	h.Set("b3", "not a b3 header")
	_, ok = trace.Extract(h)
	fmt.Println(ok)
	// Output:
	// true 4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7 true
	// false
}

func ExampleLogIDs() {
	tr, _ := trace.NewMemory(trace.WithIDSource(ids()))
	ctx, span := tr.Start(context.Background(), "charge")
	traceID, spanID, ok := trace.LogIDs(ctx)
	fmt.Println(traceID, spanID, ok)
	span.End()
	_, _, ok = trace.LogIDs(context.Background())
	fmt.Println(ok)
	// Output:
	// 00000000000000010000000000000002 0000000000000003 true
	// false
}

func ExampleParseSampler() {
	s, _ := trace.ParseSampler("0.1")
	tr, _ := trace.NewMemory(trace.WithSampler(s))
	// The caller decided: ParentBased honours it.
	caller, _ := trace.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	_, span := tr.Start(context.Background(), "joined", trace.WithParent(caller))
	fmt.Println(span.IsRecording())
	// Output: true
}
