package router

import (
	"context"
	"errors"
	"time"
)

type noHedgeKey struct{}

// NoHedge returns a ctx whose calls Do never hedges, even with
// Retry.HedgeAfter set: for a fn that must not run twice at once (it
// shares its output, like a gRPC reply message). Transport never hedges.
func NoHedge(ctx context.Context) context.Context {
	return context.WithValue(ctx, noHedgeKey{}, true)
}

// minHedgeSamples is how many results the service needs before its
// latency quantile is trusted to decide when to hedge.
const minHedgeSamples = 100

// updateHedgeDelay recomputes, once per Interval, the latency after which
// Do hedges a call.
func (s *service) updateHedgeDelay() {
	q := s.r.o.retry.HedgeAfter
	if q <= 0 {
		return
	}
	st := s.stats()
	if st.Latency.Count() < minHedgeSamples {
		return
	}
	s.hedgeAt.Store(int64(max(st.Latency.Quantile(q), time.Microsecond)))
}

type hedgeResult struct {
	err error
}

// hedged runs fn on a node and, if it has not returned after `after`, on
// another node too (within the retry budget); the first success wins and
// the other attempt's ctx is cancelled (hedged does not wait for it to
// return). If the first attempt fails before the hedge is due, the second
// goes at once, as a retry. It returns when one attempt succeeded or both
// failed.
func (s *service) hedged(ctx context.Context, key string, after time.Duration, fn func(context.Context, *Node) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan hedgeResult, 2) // never blocks an attempt that lost
	launch := func(avoid *Endpoint) (*Endpoint, error) {
		p, err := s.pick(key, avoid)
		if err != nil {
			return nil, err
		}
		go func() {
			start := time.Now()
			err := fn(ctx, p.Node)
			p.Done(err, time.Since(start))
			results <- hedgeResult{err}
		}()
		return p.ep, nil
	}
	first, err := launch(nil)
	if err != nil {
		return &Error{Op: "do", Service: s.name, Err: err}
	}
	timer := time.NewTimer(after)
	defer timer.Stop()
	running, sent := 1, 1
	var lastErr error
	for running > 0 {
		select {
		case res := <-results:
			running--
			if res.err == nil {
				return nil
			}
			lastErr = res.err
			// The first attempt failed before the hedge was due: retry now.
			rt := &s.r.o.retry
			var perm *permanentError
			if running == 0 && sent == 1 && rt.Attempts > 1 && ctx.Err() == nil && !errors.As(res.err, &perm) && rt.Retryable(res.err) && s.budget.withdraw() {
				if _, err := launch(first); err == nil {
					running, sent = 1, 2
					s.retries.Add(1)
					timer.Stop()
				}
			}
		case <-timer.C:
			if sent == 1 && s.budget.withdraw() {
				if _, err := launch(first); err == nil {
					running, sent = running+1, 2
					s.hedges.Add(1)
				}
			}
		}
	}
	return &Error{Op: "do", Service: s.name, Err: lastErr}
}
