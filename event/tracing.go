package event

import (
	"context"

	"github.com/microos/go-os/trace"
)

// WithTracer makes Publish start a producer span and carry its context in
// the record's metadata (W3C traceparent), and runs each handler in a
// consumer span whose parent is the producer's span.
func WithTracer(t *trace.Tracer) Option { return func(b *Bus) { b.tracer = t } }

// MetaTraceparent is the metadata key of the producer's trace context.
const MetaTraceparent = "traceparent"

type metaCarrier map[string]string

func (m metaCarrier) Get(k string) string {
	if k == trace.HeaderTraceparent {
		k = MetaTraceparent
	}
	return m[k]
}

func (m metaCarrier) Set(k, v string) {
	if k == trace.HeaderTraceparent {
		m[MetaTraceparent] = v
	}
}

// producerSpan starts the publish span (nil without a tracer) and writes
// the trace context of ctx's span into r's metadata. With no span in ctx,
// a trace context the record already carries (one stored with it earlier,
// as event/outbox does at Add) is the span's parent, so that relaying the
// record continues its trace rather than starting one.
func (b *Bus) producerSpan(ctx context.Context, r *Record) *trace.Span {
	var span *trace.Span
	if b.tracer != nil {
		opts := []trace.StartOption{trace.Producer}
		if !trace.SpanContextFromContext(ctx).IsValid() {
			if sc, ok := trace.Extract(metaCarrier(r.Metadata)); ok {
				opts = append(opts, trace.WithParent(sc))
			}
		}
		ctx, span = b.tracer.Start(ctx, "publish "+r.Type, opts...)
	}
	sc := trace.SpanContextFromContext(ctx)
	if sc.IsValid() {
		m := make(map[string]string, len(r.Metadata)+1) // never the caller's map
		for k, v := range r.Metadata {
			m[k] = v
		}
		r.Metadata = m
		trace.Inject(sc, metaCarrier(r.Metadata), trace.W3C)
	}
	return span
}

// consumerSpan starts the handler's span, child of the producer's.
func (b *Bus) consumerSpan(ctx context.Context, r Record) (context.Context, *trace.Span) {
	if b.tracer == nil {
		return ctx, nil
	}
	var opts []trace.StartOption
	opts = append(opts, trace.Consumer)
	if sc, ok := trace.Extract(metaCarrier(r.Metadata)); ok {
		opts = append(opts, trace.WithParent(sc))
	}
	return b.tracer.Start(ctx, "handle "+r.Type, opts...)
}
