package log

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Policy says what a write does when the async queue is full.
type Policy int

const (
	// Block makes the caller wait for room, at most the BlockAtMost
	// duration (without it, as long as it takes), then drop the line. Nothing is lost while the
	// outputs keep up; a stuck output stalls the callers.
	Block Policy = iota
	// Drop discards the line at once and counts it in Stats.Dropped: the
	// caller never waits for an output.
	Drop
)

func (p Policy) String() string {
	switch p {
	case Block:
		return "block"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy reads "block" or "drop".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "block":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return 0, invalid("policy %q: want block or drop", s)
}

// AsyncOption configures NewAsync and WithAsync.
type AsyncOption func(*asyncOptions)

type asyncOptions struct {
	bufferSize int
	policy     Policy
	blockFor   time.Duration
}

// BufferSize bounds the bytes queued and not yet written; the default is
// DefaultBufferSize. A line longer than the whole buffer is queued alone.
func BufferSize(bytes int) AsyncOption { return func(o *asyncOptions) { o.bufferSize = bytes } }

// OnFull sets the policy for a full buffer; the default is Block.
func OnFull(p Policy) AsyncOption { return func(o *asyncOptions) { o.policy = p } }

// BlockAtMost caps how long Block waits for room before dropping the line;
// without it Block waits as long as it takes.
func BlockAtMost(d time.Duration) AsyncOption { return func(o *asyncOptions) { o.blockFor = d } }

// DefaultBufferSize is the async queue's bound when none is set.
const DefaultBufferSize = 1 << 20

// Async is an Output that queues lines in a bounded buffer and writes them
// to one or more outputs from its own goroutine, in batches: the caller
// pays for encoding and one copy, never for the outputs' I/O (under Drop)
// or only while the buffer is full (under Block). Every output receives
// every line, in the order they were queued. A failing output is counted
// in Stats and does not stop the others.
//
// Lines are queued already encoded, so the handler in front (JSONHandler)
// formats each record once for all outputs, and nothing the caller logged
// is read after its call returns.
//
// Close (or Shutdown) writes everything queued, syncs the outputs that are
// Syncers (fsync for files) and closes them: once it returns, a crash loses
// no line that was queued.
type Async struct {
	outs     []Output
	limit    int
	policy   Policy
	blockFor time.Duration

	mu      sync.Mutex
	pending []byte
	lines   uint64
	closed  bool
	// space is closed when the writer takes a batch; made only while a
	// writer under Block waits.
	space chan struct{}

	spare   []byte // the writer goroutine's alone
	wake    chan struct{}
	flushes chan chan error
	quit    chan struct{}
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error

	counters
}

// NewAsync starts the queue's writer goroutine in front of outs.
func NewAsync(outs []Output, opts ...AsyncOption) (*Async, error) {
	o, err := collectAsync(opts)
	if err != nil {
		return nil, err
	}
	if len(outs) == 0 {
		return nil, invalid("async: no outputs")
	}
	a := &Async{
		outs:     slices.Clone(outs),
		limit:    o.bufferSize,
		policy:   o.policy,
		blockFor: o.blockFor,
		pending:  make([]byte, 0, min(o.bufferSize, 64<<10)),
		spare:    make([]byte, 0, min(o.bufferSize, 64<<10)),
		wake:     make(chan struct{}, 1),
		flushes:  make(chan chan error),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go a.run()
	return a, nil
}

func collectAsync(opts []AsyncOption) (asyncOptions, error) {
	o := asyncOptions{bufferSize: DefaultBufferSize}
	for _, opt := range opts {
		opt(&o)
	}
	if o.bufferSize <= 0 || o.blockFor < 0 {
		return o, invalid("async: buffer size %d or block duration %s is not positive", o.bufferSize, o.blockFor)
	}
	if o.policy != Block && o.policy != Drop {
		return o, invalid("async: unknown policy %v", o.policy)
	}
	return o, nil
}

// Write queues a copy of p, which should be whole lines, following the
// policy when the buffer is full: ErrDropped when the line was discarded,
// ErrClosed after Close.
func (a *Async) Write(p []byte) (int, error) {
	a.mu.Lock()
	var deadline *time.Timer
	for {
		if a.closed {
			a.mu.Unlock()
			stopTimer(deadline)
			return 0, fmt.Errorf("log: async: %w", ErrClosed)
		}
		if len(a.pending)+len(p) <= a.limit || len(a.pending) == 0 {
			break
		}
		if a.policy == Drop {
			a.mu.Unlock()
			a.drop()
			return 0, ErrDropped
		}
		if a.space == nil {
			a.space = make(chan struct{})
		}
		space := a.space
		a.mu.Unlock()
		if a.blockFor > 0 && deadline == nil {
			deadline = time.NewTimer(a.blockFor)
		}
		if !waitFor(space, deadline) {
			a.drop()
			return 0, ErrDropped
		}
		a.mu.Lock()
	}
	a.pending = append(a.pending, p...)
	a.lines++
	a.mu.Unlock()
	stopTimer(deadline)
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func waitFor(space chan struct{}, deadline *time.Timer) bool {
	if deadline == nil {
		<-space
		return true
	}
	select {
	case <-space:
		return true
	case <-deadline.C:
		return false
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// run is the writer goroutine: it writes what is queued whenever woken,
// serves Flush, and on quit drains, syncs and closes the outputs.
func (a *Async) run() {
	defer close(a.done)
	for {
		select {
		case <-a.wake:
			a.writeBatch()
		case reply := <-a.flushes:
			a.writeBatch()
			reply <- a.sync()
		case <-a.quit:
			a.writeBatch()
			err := a.sync()
			for _, o := range a.outs {
				if cerr := o.Close(); cerr != nil {
					err = errors.Join(err, a.fail(cerr))
				}
			}
			a.closeErr = err
			return
		}
	}
}

// writeBatch takes everything queued and hands it to every output in one
// Write each.
func (a *Async) writeBatch() {
	a.mu.Lock()
	batch, lines := a.pending, a.lines
	a.pending, a.lines = a.spare[:0], 0
	if a.space != nil {
		close(a.space)
		a.space = nil
	}
	a.mu.Unlock()
	if len(batch) > 0 {
		ok := true
		for _, o := range a.outs {
			if _, err := o.Write(batch); err != nil {
				a.fail(err)
				ok = false
			}
		}
		if ok {
			a.ok(uint64(lines))
		}
	}
	if cap(batch) > 4*a.limit { // one huge line: do not keep its memory
		batch = make([]byte, 0, min(a.limit, 64<<10))
	}
	a.spare = batch[:0]
}

func (a *Async) sync() error {
	var err error
	for _, o := range a.outs {
		if s, ok := o.(Syncer); ok {
			if serr := s.Sync(); serr != nil {
				err = errors.Join(err, a.fail(serr))
			}
		}
	}
	return err
}

// Flush returns once every line queued before it was called has been
// written to every output and the outputs synced, or when ctx ends.
func (a *Async) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case a.flushes <- reply:
	case <-a.done:
		return fmt.Errorf("log: async: %w", ErrClosed)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sync is Flush without a deadline, so that an Async can sit behind
// another Async or be synced like a file.
func (a *Async) Sync() error { return a.Flush(context.Background()) }

// Shutdown stops accepting lines, writes everything queued, syncs and
// closes the outputs. If ctx ends first it returns ctx's error and the
// writer goroutine finishes in the background (an output's Write cannot be
// interrupted). It is idempotent: later calls wait for the same end.
func (a *Async) Shutdown(ctx context.Context) error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		if a.space != nil { // release writers waiting under Block
			close(a.space)
			a.space = nil
		}
		a.mu.Unlock()
		close(a.quit)
	})
	select {
	case <-a.done:
		return a.closeErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown without a deadline.
func (a *Async) Close() error { return a.Shutdown(context.Background()) }

// Stats returns the queue's counters.
func (a *Async) Stats() Stats {
	return a.counters.stats()
}
