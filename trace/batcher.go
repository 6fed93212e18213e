package trace

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/internal/health"
)

// batcher is the bounded queue between End and the exporter. End never
// waits on it: it appends under a mutex held for a few nanoseconds, and a
// full queue drops the span and counts it. The export goroutine is woken
// only when a batch is full (or by its timer), not for every span, so a
// span costs the caller no goroutine hand-off. The goroutine swaps the
// queue for an empty one and sends it in batches, retrying failed batches
// with capped exponential backoff and jitter. At most queueSize spans wait
// while another queueSize are being sent: memory stays bounded whatever
// the collector does.
type batcher struct {
	exp           Exporter
	queueSize     int
	batchSize     int
	flushInterval time.Duration
	exportTimeout time.Duration
	maxRetries    int
	logger        *slog.Logger

	mu    sync.Mutex
	queue []*SpanData
	spare []*SpanData   // the goroutine's last queue, reused
	kick  chan struct{} // capacity 1: a batch is ready

	flushReq chan chan struct{}
	stopping chan struct{} // closed by close: drain and exit
	ctx      context.Context
	cancel   context.CancelFunc // aborts the export under way when Shutdown's ctx expires
	done     chan struct{}
	stopOnce sync.Once

	exported, dropped, failed atomic.Uint64
	lastErr                   atomic.Pointer[ExportError]
	health                    health.Tracker
}

func newBatcher(exp Exporter, o options) *batcher {
	ctx, cancel := context.WithCancel(context.Background())
	b := &batcher{
		exp:           exp,
		queueSize:     o.queueSize,
		batchSize:     o.batchSize,
		flushInterval: o.flushInterval,
		exportTimeout: o.exportTimeout,
		maxRetries:    o.maxRetries,
		logger:        o.logger,
		queue:         make([]*SpanData, 0, o.queueSize),
		health:        health.Tracker{Now: o.now}, // nil: time.Now
		spare:         make([]*SpanData, 0, o.queueSize),
		kick:          make(chan struct{}, 1),
		flushReq:      make(chan chan struct{}),
		stopping:      make(chan struct{}),
		ctx:           ctx,
		cancel:        cancel,
		done:          make(chan struct{}),
	}
	go b.run()
	return b
}

func (b *batcher) enqueue(d *SpanData) {
	b.mu.Lock()
	n := len(b.queue)
	if n >= b.queueSize {
		b.mu.Unlock()
		b.dropped.Add(1)
		return
	}
	b.queue = append(b.queue, d)
	b.mu.Unlock()
	if n+1 == b.batchSize {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// take swaps the queue for the spare one and returns what was queued.
func (b *batcher) take() []*SpanData {
	b.mu.Lock()
	q := b.queue
	b.queue = b.spare[:0]
	b.mu.Unlock()
	b.spare = nil
	return q
}

func (b *batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(b.flushInterval)
	defer timer.Stop()
	for {
		select {
		case <-b.kick:
			b.sendQueued()
		case <-timer.C:
			b.sendQueued()
			timer.Reset(b.flushInterval)
		case ack := <-b.flushReq:
			b.sendQueued()
			close(ack)
		case <-b.stopping:
			b.sendQueued()
			// Spans that raced past the tracer's closed check land here
			// after the last take; nobody will send them.
			b.mu.Lock()
			b.dropped.Add(uint64(len(b.queue)))
			b.queue = b.queue[:0]
			b.queueSize = 0
			b.mu.Unlock()
			return
		}
	}
}

// sendQueued exports everything queued now, batch by batch, and keeps the
// emptied slice as the next spare. Each batch's slots are cleared as soon
// as it is sent, so that its spans are garbage then, not when the whole
// queue is: behind a slow collector the queue taken can be long, and the
// spans already sent would otherwise stay live for the garbage collector
// to mark, on the callers' cores too.
func (b *batcher) sendQueued() {
	q := b.take()
	for i := 0; i < len(q); i += b.batchSize {
		batch := q[i:min(i+b.batchSize, len(q))]
		b.export(batch)
		clear(batch)
	}
	b.spare = q[:0]
}

// export sends one batch, retrying ErrUnavailable.
func (b *batcher) export(batch []*SpanData) {
	for attempt := 0; ; attempt++ {
		if b.ctx.Err() != nil { // Shutdown's deadline passed: what is left is lost
			b.dropped.Add(uint64(len(batch)))
			break
		}
		ctx, cancel := context.WithTimeout(b.ctx, b.exportTimeout)
		err := b.exp.Export(ctx, batch)
		cancel()
		if err == nil {
			b.exported.Add(uint64(len(batch)))
			b.lastErr.Store(nil)
			b.health.Success()
			break
		}
		b.failed.Add(1)
		ee := &ExportError{Spans: len(batch), Err: err}
		b.lastErr.Store(ee)
		b.health.Failure(ee)
		retry := attempt < b.maxRetries && !errors.Is(err, ErrRejected)
		if b.logger != nil {
			b.logger.LogAttrs(b.ctx, slog.LevelWarn, "trace: export failed",
				slog.Int("spans", len(batch)), slog.Int("attempt", attempt+1), slog.Bool("retry", retry), slog.Any("error", err))
		}
		if !retry || !b.backoff(attempt) {
			b.dropped.Add(uint64(len(batch)))
			break
		}
	}
}

// backoff waits before retry attempt+1: 100ms doubling up to 5s, with full
// jitter. It returns false when Shutdown's deadline passes meanwhile.
func (b *batcher) backoff(attempt int) bool {
	return backoff.Sleep(b.ctx, backoff.Delay(attempt, 100*time.Millisecond, 5*time.Second))
}

func (b *batcher) flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case b.flushReq <- ack:
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close drains the queue and stops the goroutine; when ctx expires first it
// aborts the export under way and drops the rest.
func (b *batcher) close(ctx context.Context) error {
	b.stopOnce.Do(func() { close(b.stopping) })
	var err error
	select {
	case <-b.done:
	case <-ctx.Done():
		err = ctx.Err()
		b.cancel()
		<-b.done
	}
	b.cancel()
	return err
}

func (b *batcher) stats() Stats {
	b.mu.Lock()
	queued := len(b.queue)
	b.mu.Unlock()
	s := Stats{
		Queued:        queued,
		Exported:      b.exported.Load(),
		Dropped:       b.dropped.Load(),
		FailedExports: b.failed.Load(),
	}
	if e := b.lastErr.Load(); e != nil {
		s.LastError = e
	}
	return s
}
