package log

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
)

// Logger is a *slog.Logger built from options, together with what it owns:
// its runtime-settable level, its async queue and its outputs. Log through
// the embedded *slog.Logger (or pass it on as one); Close it before the
// program exits so that nothing queued is lost.
type Logger struct {
	*slog.Logger

	level   *slog.LevelVar
	outputs []Output
	owned   []bool
	async   *Async
	sampler *Sampler
	// direct counts the lines written without a queue.
	direct *countingOutput

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// New builds a Logger. The handler chain, outermost first, is: Sampler
// (when WithSampling), the encoder, then the Async queue (when WithAsync)
// in front of the outputs. The encoder is JSONHandler, which writes the
// ctx fields itself and, unless WithoutRedaction, applies the redaction
// rule of RedactHandler during its one pass over the attributes; or, for
// the Text format, a ContextHandler in front of a RedactHandler in front
// of slog's TextHandler. Either way the ctx fields are redacted too. The
// ctx fields are the request id and WithContext's.
func New(opts ...Option) (*Logger, error) {
	o := options{level: slog.LevelInfo}
	for _, opt := range opts {
		opt(&o)
	}
	if o.sample != nil {
		o.errs = append(o.errs, o.sample.validate())
	}
	if err := errors.Join(o.errs...); err != nil {
		return nil, err
	}
	if len(o.outputs) == 0 {
		o.outputs, o.owned = []Output{Stderr()}, []bool{true}
	}
	l := &Logger{level: new(slog.LevelVar), outputs: o.outputs, owned: o.owned}
	l.level.Set(o.level)

	sink, err := l.sink(o)
	if err != nil {
		l.closeOutputs()
		return nil, err
	}
	contexts := append([]ContextFunc{RequestIDContext}, o.contexts...)
	var h slog.Handler
	if o.format == Text {
		h = slog.NewTextHandler(sink, &slog.HandlerOptions{Level: l.level, AddSource: o.addSource})
		if !o.noRedact {
			h = NewRedactHandler(h, o.redact...)
		}
		h = NewContextHandler(h, contexts...)
	} else {
		j := NewJSONHandler(sink, &HandlerOptions{Level: l.level, AddSource: o.addSource, Context: contexts})
		if !o.noRedact {
			j.red = newRedactor(o.redact) // the rule applied while encoding
		}
		h = j
	}
	if o.sample != nil {
		s, _ := NewSampler(h, o.sample.first, o.sample.thereafter, o.sample.per) // validated above
		l.sampler, h = s, s
	}
	if len(o.attrs) > 0 {
		h = h.WithAttrs(o.attrs)
	}
	l.Logger = slog.New(h)
	return l, nil
}

// sink returns what the encoder writes to: the async queue, the only
// output, or all of them in turn.
func (l *Logger) sink(o options) (io.Writer, error) {
	outs := make([]Output, len(l.outputs))
	for i, out := range l.outputs {
		outs[i] = out
		if !l.owned[i] {
			outs[i] = borrowed{out}
		}
	}
	if o.useAsync {
		a, err := NewAsync(outs, o.async...)
		if err != nil {
			return nil, err
		}
		l.async = a
		return a, nil
	}
	var sink Output = fanout(outs)
	if len(outs) == 1 {
		sink = outs[0]
	}
	l.direct = &countingOutput{Output: sink}
	return l.direct, nil
}

// countingOutput counts the lines and failures of synchronous writes,
// whose errors slog.Logger would otherwise discard.
type countingOutput struct {
	Output
	counters
}

func (c *countingOutput) Write(p []byte) (int, error) {
	n, err := c.Output.Write(p)
	if err != nil {
		return n, c.fail(err)
	}
	c.ok(1)
	return n, nil
}

// borrowed is an output the Logger did not create: Close syncs it and
// leaves it open.
type borrowed struct{ Output }

func (b borrowed) Sync() error {
	if s, ok := b.Output.(Syncer); ok {
		return s.Sync()
	}
	return nil
}

func (b borrowed) Close() error { return b.Sync() }

// fanout writes every line to each output in turn, synchronously.
type fanout []Output

func (f fanout) Write(p []byte) (int, error) {
	var errs []error
	for _, o := range f {
		if _, err := o.Write(p); err != nil {
			errs = append(errs, err)
		}
	}
	return len(p), errors.Join(errs...)
}

func (f fanout) Close() error { return nil }

// SetLevel changes the minimum level of the Logger and every logger
// derived from it, at once and safely while others log.
func (l *Logger) SetLevel(level slog.Level) {
	if l != nil {
		l.level.Set(level)
	}
}

// Level returns the current minimum level.
func (l *Logger) Level() slog.Level {
	if l == nil {
		return slog.LevelInfo
	}
	return l.level.Level()
}

// Reopen reopens every output that can (files: see File.Reopen), for a
// SIGHUP from logrotate.
func (l *Logger) Reopen() error {
	if l == nil {
		return nil
	}
	var errs []error
	for _, o := range l.outputs {
		if r, ok := o.(interface{ Reopen() error }); ok {
			errs = append(errs, r.Reopen())
		}
	}
	return errors.Join(errs...)
}

// Stats returns the Logger's counters: the async queue's (lines written,
// dropped by its policy, output failures) or, without a queue, those of
// the synchronous writes; Dropped adds the lines sampling discarded. A
// File keeps its own Stats too, which also count its failed rotations.
func (l *Logger) Stats() Stats {
	var s Stats
	if l == nil {
		return s
	}
	if l.async != nil {
		s = l.async.Stats()
	} else {
		s = l.direct.stats()
	}
	if l.sampler != nil {
		s.Dropped += l.sampler.Dropped()
	}
	return s
}

// Flush writes everything queued and syncs the outputs.
func (l *Logger) Flush(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if l.async != nil {
		return l.async.Flush(ctx)
	}
	var errs []error
	for _, o := range l.outputs {
		if s, ok := o.(Syncer); ok {
			errs = append(errs, s.Sync())
		}
	}
	return errors.Join(errs...)
}

// Shutdown flushes the queue, syncs every output and closes the ones the
// Logger created (Open's); it honours ctx's deadline and is idempotent.
// Logging after it returns errors that slog discards.
func (l *Logger) Shutdown(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.closed.Store(true)
	if l.async != nil {
		// Async.Shutdown is idempotent: a call after one that timed out
		// waits for the same end.
		return l.async.Shutdown(ctx)
	}
	l.closeOnce.Do(func() { l.closeErr = l.closeOutputs() })
	return l.closeErr
}

// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s): what the
// outputs have not taken by then is counted as dropped.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	return lifecycle.Close(l.Shutdown)
}

// Check reports whether lines reach the outputs: nil while the latest
// write was taken (or none was made), else an error wrapping ErrOutput
// (class oserr.Unavailable: disk full, a file removed, a connection lost)
// or ErrDropped (class oserr.Limited: the async queue was full) with the
// last failure and its age; the next line taken clears it. After Shutdown
// it returns ErrClosed. It answers from what the writes saw, never blocks,
// and is safe for concurrent use. A nil *Logger is healthy.
func (l *Logger) Check(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.closed.Load() {
		return ErrClosed
	}
	var c *counters
	if l.async != nil {
		c = &l.async.counters
	} else {
		c = &l.direct.counters
	}
	err := c.health.Check(ctx, ErrOutput)
	if he, ok := err.(*health.Error); ok && errors.Is(he.Last, ErrDropped) {
		he.Kind = ErrDropped
	}
	return err
}

func (l *Logger) closeOutputs() error {
	var errs []error
	for i, o := range l.outputs {
		if l.owned[i] {
			errs = append(errs, o.Close())
		} else {
			errs = append(errs, borrowed{o}.Close())
		}
	}
	return errors.Join(errs...)
}

// Outputs returns the outputs lines go to (Open's mem:// is a *Memory).
func (l *Logger) Outputs() []Output {
	if l == nil {
		return nil
	}
	return slices.Clone(l.outputs)
}
