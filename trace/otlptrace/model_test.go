package otlptrace

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/microos/go-os/trace"
)

// benchBatch is a batch of n spans with three tags each, as the
// comparisons in bench/tracebench send.
func benchBatch(n int) []*trace.SpanData {
	spans := make([]*trace.SpanData, n)
	for i := range spans {
		d := &trace.SpanData{Name: "op", Kind: trace.Client, Service: "svc", Start: time.Now(), End: time.Now().Add(time.Millisecond),
			Tags: []trace.Tag{{Key: "db.system", Value: "redis"}, {Key: "db.operation.name", Value: "GET"}, {Key: "server.address", Value: "cache-1"}}}
		d.TraceID[15], d.SpanID[7], d.ParentID[7] = byte(i+1), byte(i+1), 1
		spans[i] = d
	}
	return spans
}

// BenchmarkEncode is the exporter's work per batch of 256 spans (three
// tags each) before the HTTP post: build the request in the encoder it
// keeps and marshal it.
func BenchmarkEncode(b *testing.B) {
	spans := benchBatch(256)
	var e encoders
	marshal := func(req *coltracepb.ExportTraceServiceRequest) error {
		_, err := proto.Marshal(req)
		return err
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.use(spans, marshal); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/span")
}

// BenchmarkEncodeFresh is the same with a new encoder and buffer for each
// batch: what the first batch costs, or each of concurrent Exports.
func BenchmarkEncodeFresh(b *testing.B) {
	spans := benchBatch(256)
	b.ReportAllocs()
	for b.Loop() {
		var e encoder
		if _, err := proto.Marshal(e.build(spans)); err != nil {
			b.Fatal(err)
		}
		e.release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/span")
}

// BenchmarkExport is one Export of 256 spans to a receiver on loopback
// that reads and discards the body: encoding and the HTTP round trip.
func BenchmarkExport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	exp, err := New(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Close()
	spans := benchBatch(256)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := exp.Export(ctx, spans); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/span")
}
