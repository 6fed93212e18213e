package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/trace"
)

func TestConsumerSpanIsChildOfProducer(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithSampler(trace.Always()))
	defer tr.Close()
	b := event.NewMemory(event.WithTracer(tr))
	defer b.Close()
	ctx := context.Background()
	got := make(chan trace.SpanContext, 1)
	sub, err := b.Subscribe(ctx, func(ctx context.Context, r event.Record) error {
		got <- trace.SpanContextFromContext(ctx)
		return nil
	}, event.SubscribeOptions{Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	rctx, req := tr.Start(ctx, "request", trace.Server)
	if _, err := b.Publish(rctx, event.Record{Type: "order.placed"}); err != nil {
		t.Fatal(err)
	}
	req.End()
	var hsc trace.SpanContext
	select {
	case hsc = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("not handled")
	}
	sub.Stop()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	prod, ok := rec.Find("publish order.placed")
	cons, ok2 := rec.Find("handle order.placed")
	if !ok || !ok2 {
		t.Fatalf("spans %+v", rec.Spans())
	}
	if prod.Kind != trace.Producer || cons.Kind != trace.Consumer {
		t.Fatalf("kinds %v %v", prod.Kind, cons.Kind)
	}
	if cons.ParentID != prod.SpanID || cons.TraceID != req.SpanContext().TraceID || hsc.SpanID != cons.SpanID {
		t.Fatalf("consumer %+v not child of producer %+v in the request's trace", cons, prod)
	}
}

// A record that carries a trace context of its own (stored earlier, as
// the outbox does at Add) and is published with no span in ctx continues
// that trace: the producer span is a child of the stored context.
func TestPublishContinuesTheRecordsTrace(t *testing.T) {
	tr, rec := trace.NewMemory(trace.WithSampler(trace.Always()))
	defer tr.Close()
	b := event.NewMemory(event.WithTracer(tr))
	defer b.Close()
	ctx := context.Background()
	const stored = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if _, err := b.Publish(ctx, event.Record{Type: "order.paid", Metadata: map[string]string{event.MetaTraceparent: stored}}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	prod, ok := rec.Find("publish order.paid")
	if !ok {
		t.Fatalf("spans %+v", rec.Spans())
	}
	if prod.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || prod.ParentID.String() != "00f067aa0ba902b7" {
		t.Fatalf("producer span %s/%s (parent %s), want a child of the stored %s", prod.TraceID, prod.SpanID, prod.ParentID, stored)
	}
}
