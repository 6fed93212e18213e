package zipkintrace_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/zipkintrace"
)

// What the exporter posts: a collector stand-in prints the Zipkin v2 JSON.
func ExampleNew() {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(string(body))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer collector.Close()

	exp, err := zipkintrace.New(collector.URL + "/api/v2/spans")
	if err != nil {
		panic(err)
	}
	var n atomic.Uint64
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tr := trace.New(exp, trace.WithService("checkout", "", ""),
		trace.WithIDSource(func() uint64 { return n.Add(1) }),
		trace.WithClock(func() time.Time { now = now.Add(time.Millisecond); return now }))

	_, span := tr.Start(context.Background(), "charge card", trace.Client, trace.WithRemote(trace.Endpoint{Service: "payments"}))
	span.SetTag("amount", "42")
	span.End()
	tr.Shutdown(context.Background()) // flushes
	// Output:
	// [{"timestamp":1795338000001000,"duration":1000,"traceId":"00000000000000010000000000000002","id":"0000000000000003","name":"charge card","kind":"CLIENT","localEndpoint":{"serviceName":"checkout"},"remoteEndpoint":{"serviceName":"payments"},"tags":{"amount":"42"}}]
}
