// Package trace records distributed traces: the lifetime of a request as
// it fans out across services, one span per hop or unit of work, each
// knowing its trace and its parent.
//
// A Tracer starts spans and puts them in the context; the net/http
// wrappers (Middleware, Transport) and the gRPC interceptors in
// trace/tracegrpc carry the trace across processes in W3C traceparent or
// Zipkin B3 headers; an exporter sends finished spans to a collector from a
// bounded queue, so that a slow or absent collector costs dropped spans
// (counted), never the service's latency.
//
//	tr, err := trace.Open(ctx, os.Getenv("TRACE_URL")) // "mem://", "zipkin+http://zipkin:9411/api/v2/spans?service=checkout&sampler=0.1"
//	if err != nil { ... }
//	defer tr.Shutdown(shutdownCtx) // flushes what is queued, within the deadline
//
//	http.ListenAndServe(addr, trace.Middleware(tr)(mux))        // server spans join the caller's trace
//	client := &http.Client{Transport: trace.Transport(nil, tr)} // client spans are children of the ctx's span
//
//	ctx, span := tr.Start(ctx, "load cart", trace.Client)
//	defer span.End()
//	span.SetTag("cart.items", "3")
//
// Sampling is decided once per trace, at its root or where it enters the
// service, and travels with it: Always, Never, Probability (by trace id, so
// services agree), RateLimited (N per second) and ParentBased (honour the
// caller, the default) are provided; a debug span (WithDebug, or B3's debug
// flag) is always recorded. Inside an unsampled trace Start returns the
// context it was given and a nil *Span, whose methods do nothing: no
// allocation, a few nanoseconds. An unsampled root (a request sampled out
// as it arrives) carries its decision in a context taken from a slab of
// 32, so it allocates nothing on average either, and with the default id
// source it draws its ids only when its context is first read (an Inject,
// a log line), so that children and callees still get them. A sampled span is
// one allocation; its times come from the monotonic clock off a wall
// reading at most a second old, so a span reads the clock twice, not four
// times (see clock.go). A nil *Tracer (Noop) records and propagates
// nothing.
//
// # Propagation
//
// Extract follows W3C Trace Context Level 1 and 2 (a traceparent of an
// unknown future version is read as version 00; ff, upper-case hex and
// all-zero ids are refused; two different traceparent values start a new
// trace; the random flag is kept and passed on; tracestate is combined
// across headers and checked by the grammar, an invalid list dropped
// whole, see CleanTracestate) and B3 (single and multi header, 64- and
// 128-bit ids, debug "d" / X-B3-Flags: 1, a bare decision "b3: 0").
// When both W3C and B3 arrive and disagree, a valid traceparent wins (it
// is the standard, and OpenTelemetry's composite propagator reads it
// first); B3 is read only when traceparent is absent or invalid, single
// header before multi. Inject then writes the one resulting context in
// every format WithPropagation chose, so the formats agree downstream.
// Other vendors' tracestate entries are passed on unaltered; a service
// that writes its own (WithTracestate, SetTracestate) moves it to the
// front as §3.5 says, dropping members from the right past 32.
//
// LogIDs is the trace ↔ log bridge: log.WithTraceIDs(trace.LogIDs) adds
// trace_id and span_id, at the top level, to every record made with a
// span's context. WriteTimeline prints a trace as an indented timeline.
//
// # Backends
//
// A backend is an Exporter that sends a batch; the Tracer in front of it
// (New) owns everything else, identical on every backend: ids, sampling,
// propagation, the bounded queue, batching, retries with capped exponential
// backoff and jitter, drop counting (Stats, Dropped) and Shutdown.
//
//   - mem:// (NewMemory, NewRecorder): keeps the last MaxRecorded spans in
//     a Recorder, handed over as each span ends, with helpers that tests use
//     to assert a trace's shape (Trace, Find, Spans).
//   - zipkin+http:// and zipkin+https:// (trace/zipkintrace): Zipkin v2
//     JSON over HTTP to a Zipkin, Jaeger or OpenTelemetry collector.
//   - otlp+http:// and otlp+https:// (trace/otlptrace): OTLP/HTTP protobuf
//     to any OpenTelemetry collector (host:4318, /v1/traces added), and
//     otlp+grpc:// (OTLP/gRPC, host:4317).
//
// Every exporter passes the conformance suite in trace/tracetest, run
// against the real collector.
//
// trace/tracemetrics publishes the export figures (exported, dropped,
// failed exports, queue length, exporter health) to the metrics package.
//
// # Errors
//
// Tracing never fails the caller: Start and End return no error, and a
// malformed incoming header starts a new trace. Export errors wrap
// ErrUnavailable (retried) or ErrRejected (dropped) inside an
// *ExportError; the last one is in Stats().LastError (nil again once an
// export succeeds) and, with WithLogger, in the log. ErrClosed comes from
// Flush after Close; ParseTraceparent, ParseB3, ParseTraceID and
// ParseSpanID return ErrInvalidContext.
//
// # Concurrency
//
// A Tracer, its Spans and the Recorder are safe for concurrent use. End
// never blocks: when the export queue (WithQueueSize) is full the span is
// dropped and counted. One goroutine per Tracer exports, started by New
// and stopped by Shutdown (Close is Shutdown without a deadline), which
// waits for it until ctx's deadline and then abandons what is left
// (counted as dropped). A span's methods do nothing
// after End; an Exporter's Export is called from one goroutine at a time.
package trace
