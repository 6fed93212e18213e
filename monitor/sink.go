package monitor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/microos/go-os/internal/backoff"
)

// Sink receives the report every publish interval, from a goroutine of its
// own: a slow or failing sink never delays the checks or other sinks.
type Sink interface {
	Publish(ctx context.Context, r Report) error
}

// SinkState is a sink's publishing health.
type SinkState struct {
	Name          string    `json:"name"`
	LastPublished time.Time `json:"last_published"`
	Error         string    `json:"error,omitempty"`
	FailingSince  time.Time `json:"failing_since,omitempty"`
	Failures      uint64    `json:"failures"`
}

type sinkRunner struct {
	s    Sink
	name string
	mu   sync.Mutex
	st   SinkState
}

func sinkName(s Sink) string {
	if n, ok := s.(interface{ Name() string }); ok {
		return n.Name()
	}
	return fmt.Sprintf("%T", s)
}

func (r *sinkRunner) state() SinkState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	st.Name = r.name
	return st
}

func (r *sinkRunner) publish(ctx context.Context, rep Report, now time.Time) error {
	err := r.s.Publish(ctx, rep)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.st.Error == "" {
			r.st.FailingSince = now
		}
		r.st.Error = err.Error()
		r.st.Failures++
		return fmt.Errorf("%w: %s: %w", ErrSink, r.name, err)
	}
	r.st.Error, r.st.FailingSince, r.st.LastPublished = "", time.Time{}, now
	return nil
}

// sinkLoop publishes every interval; after a failure it retries with
// capped exponential backoff (never faster than WithRetry's min, never
// slower than the publish interval when that is shorter than the max).
func (m *Monitor) sinkLoop(r *sinkRunner) {
	defer m.wg.Done()
	b := backoff.Backoff{Min: m.o.retryMin, Max: m.o.retryMax}
	wait := time.Duration(0)
	for {
		if !backoff.SleepDone(m.stopCh, wait) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.o.publishTimeout)
		go func() { // cut the publish when the monitor stops
			select {
			case <-m.stopCh:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := r.publish(ctx, m.Report(), m.now())
		cancel()
		if err != nil {
			wait = b.Next()
			m.log.Warn("monitor: sink publish failed", "sink", r.name, "err", err, "retry_in", wait)
			continue
		}
		b.Reset()
		wait = m.o.publishInterval
	}
}

// MemorySink keeps every report it receives, for tests.
type MemorySink struct {
	mu      sync.Mutex
	reports []Report
	fail    error
	pub     chan struct{}
}

// NewMemorySink returns an empty MemorySink.
func NewMemorySink() *MemorySink { return &MemorySink{pub: make(chan struct{})} }

// Name is "memory".
func (s *MemorySink) Name() string { return "memory" }

// Publish stores r, or returns the error set by Fail.
func (s *MemorySink) Publish(ctx context.Context, r Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.reports = append(s.reports, r)
	close(s.pub)
	s.pub = make(chan struct{})
	return nil
}

// Fail makes Publish return err (nil: succeed again).
func (s *MemorySink) Fail(err error) { s.mu.Lock(); s.fail = err; s.mu.Unlock() }

// Reports returns every report stored.
func (s *MemorySink) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Report(nil), s.reports...)
}

// Published returns a channel closed at the next successful Publish.
func (s *MemorySink) Published() <-chan struct{} { s.mu.Lock(); defer s.mu.Unlock(); return s.pub }
