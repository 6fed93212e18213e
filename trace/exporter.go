package trace

import "context"

// Exporter is what a backend implements; New puts the portable Tracer in
// front of it. The tracer owns sampling, ids, propagation, the bounded
// queue, batching, retries with backoff, drop counting and Close; an
// exporter only sends a batch.
//
// Export is called from one goroutine at a time, never after Close. It must
// honour ctx (the tracer cancels it when Shutdown's deadline passes), must not
// modify the spans or keep them after it returns, and returns nil, an error
// wrapping ErrUnavailable (the batch is retried with backoff) or one
// wrapping ErrRejected (the batch is dropped and counted).
type Exporter interface {
	Export(ctx context.Context, spans []*SpanData) error
	// Close releases what the exporter owns. The tracer calls it once,
	// after the last Export.
	Close() error
}
