package otlptrace_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/otlptrace"
)

// What the exporter posts: a receiver stand-in decodes the protobuf body
// and prints the span, in OTLP's JSON form.
func ExampleNew() {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			panic(err)
		}
		rs := req.ResourceSpans[0]
		res := rs.Resource.Attributes[0]
		fmt.Println(r.URL.Path, res.Key, res.Value.GetStringValue())
		s := rs.ScopeSpans[0].Spans[0]
		fmt.Printf("%s %v %x parent=%x %v\n", s.Name, s.Kind, s.TraceId, s.ParentSpanId, time.Duration(s.EndTimeUnixNano-s.StartTimeUnixNano))
		for _, a := range s.Attributes {
			switch v := a.Value.Value.(type) {
			case *commonpb.AnyValue_IntValue:
				fmt.Println(a.Key, "int", v.IntValue)
			case *commonpb.AnyValue_StringValue:
				fmt.Println(a.Key, "string", v.StringValue)
			}
		}
	}))
	defer receiver.Close()

	exp, err := otlptrace.New(receiver.URL) // /v1/traces is added
	if err != nil {
		panic(err)
	}
	var n atomic.Uint64
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tr := trace.New(exp, trace.WithService("checkout", "", ""),
		trace.WithIDSource(func() uint64 { return n.Add(1) }),
		trace.WithClock(func() time.Time { now = now.Add(time.Millisecond); return now }))

	_, span := tr.Start(context.Background(), "GET /orders/{id}", trace.Server)
	span.SetTag(trace.TagHTTPMethod, "GET")
	span.SetTag(trace.TagHTTPStatus, "200")
	span.End()
	tr.Shutdown(context.Background()) // flushes
	// Output:
	// /v1/traces service.name checkout
	// GET /orders/{id} SPAN_KIND_SERVER 00000000000000010000000000000002 parent= 1ms
	// http.request.method string GET
	// http.response.status_code int 200
}
