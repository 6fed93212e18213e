package log

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

type sampleOptions struct {
	first, thereafter int
	per               time.Duration
}

func (o sampleOptions) validate() error {
	if o.first < 0 || o.thereafter < 0 || o.per < 0 {
		return invalid("sampling: negative first %d, thereafter %d or interval %s", o.first, o.thereafter, o.per)
	}
	return nil
}

// samplerBuckets is the number of counters a sampler hashes level and
// message onto: a collision makes two messages share a budget, never
// log more than allowed.
const samplerBuckets = 4096

type sampleCounter struct {
	windowEnd atomic.Int64 // Unix ns at which the count resets
	n         atomic.Uint64
}

type sampler struct {
	opts     sampleOptions
	counters [samplerBuckets]sampleCounter
	dropped  atomic.Uint64
}

// Sampler rate-limits repeated messages: of the records with the same
// level and message, it passes the first `first` of every interval, then
// one in `thereafter` (none when it is 0), and drops the rest, counting
// them. It reads no clock: the interval follows the records' own time.
// Handlers derived by WithAttrs and WithGroup share its counts. Records
// without a time are never dropped.
type Sampler struct {
	next slog.Handler
	s    *sampler
}

// NewSampler returns a Sampler in front of next; an interval of 0 means
// one second.
func NewSampler(next slog.Handler, first, thereafter int, interval time.Duration) (*Sampler, error) {
	o := sampleOptions{first: first, thereafter: thereafter, per: interval}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.per == 0 {
		o.per = time.Second
	}
	return &Sampler{next: next, s: &sampler{opts: o}}, nil
}

// Enabled reports whether next handles level.
func (h *Sampler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r on unless its budget for the window is spent.
func (h *Sampler) Handle(ctx context.Context, r slog.Record) error {
	if r.Time.IsZero() || h.s.allow(r.Level, r.Message, r.Time.UnixNano()) {
		return h.next.Handle(ctx, r)
	}
	h.s.dropped.Add(1)
	return nil
}

func (s *sampler) allow(level slog.Level, msg string, now int64) bool {
	// FNV-1a over the level and the message.
	hash := uint32(2166136261) ^ uint32(level)
	hash *= 16777619
	for i := 0; i < len(msg); i++ {
		hash ^= uint32(msg[i])
		hash *= 16777619
	}
	c := &s.counters[hash%samplerBuckets]
	if end := c.windowEnd.Load(); now >= end {
		if c.windowEnd.CompareAndSwap(end, now+int64(s.opts.per)) {
			c.n.Store(1)
			return s.opts.first > 0 || s.opts.thereafter > 0
		}
	}
	n := c.n.Add(1)
	first := uint64(s.opts.first)
	if n <= first {
		return true
	}
	return s.opts.thereafter > 0 && (n-first-1)%uint64(s.opts.thereafter) == 0
}

// Dropped counts the records the sampler has dropped.
func (h *Sampler) Dropped() uint64 { return h.s.dropped.Load() }

// WithAttrs passes attrs to next; the counts stay shared.
func (h *Sampler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Sampler{next: h.next.WithAttrs(attrs), s: h.s}
}

// WithGroup passes name to next; the counts stay shared.
func (h *Sampler) WithGroup(name string) slog.Handler {
	return &Sampler{next: h.next.WithGroup(name), s: h.s}
}
