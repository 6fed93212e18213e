package otlptrace

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/microos/go-os/trace"
)

// BenchmarkEncode is the exporter's work per batch of 256 spans (three
// tags each) before the HTTP post: build the request and marshal it.
func BenchmarkEncode(b *testing.B) {
	spans := make([]*trace.SpanData, 256)
	for i := range spans {
		d := &trace.SpanData{Name: "op", Kind: trace.Client, Service: "svc", Start: time.Now(), End: time.Now().Add(time.Millisecond),
			Tags: []trace.Tag{{Key: "db.system", Value: "redis"}, {Key: "db.operation.name", Value: "GET"}, {Key: "server.address", Value: "cache-1"}}}
		d.TraceID[15], d.SpanID[7], d.ParentID[7] = byte(i+1), byte(i+1), 1
		spans[i] = d
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(request(spans)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/span")
}
