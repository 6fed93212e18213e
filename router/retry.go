package router

import (
	"context"
	"errors"
	"github.com/microos/go-os/internal/backoff"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Retry is how Do and Transport retry a failed request on another node.
// The zero value takes every default, which is no retry at all.
type Retry struct {
	// Attempts is the number of tries including the first (default 1).
	Attempts int
	// Budget caps retries at this fraction of the service's requests
	// (default 0.2), plus MinRetries: a retry budget (Finagle) rather than
	// per-request attempts alone, so that when a service is down retries
	// add 20% load, not Attempts×.
	Budget float64
	// MinRetries is the budget's floor (default 10), so that a service
	// with little traffic can still retry.
	MinRetries int
	// Backoff is the wait before the first retry (default 10 ms); it
	// doubles for each retry up to MaxBackoff (default 1 s), with full
	// jitter.
	Backoff, MaxBackoff time.Duration
	// Retryable says whether an error may be retried; default: any error
	// except the caller's ctx ending and the router's own refusals (Local).
	Retryable func(error) bool
	// HedgeAfter, between 0 and 1, turns on hedged requests for Do: when a
	// call has not returned after this quantile of the service's latency
	// (0.95: slower than 95% of calls), Do sends the same call to another
	// node, returns the first success and cancels the other's ctx. A hedge
	// spends the retry budget. fn must then be idempotent, safe to run
	// twice at once, and return when its ctx is cancelled (Do does not
	// wait for the losing attempt). Hedging starts once the service has
	// 100 results to take the quantile from, and makes at most 2 attempts
	// per call. 0 (default): no hedging.
	HedgeAfter float64
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 1
	}
	if r.Budget <= 0 {
		r.Budget = 0.2
	}
	if r.MinRetries <= 0 {
		r.MinRetries = 10
	}
	if r.Backoff <= 0 {
		r.Backoff = 10 * time.Millisecond
	}
	if r.MaxBackoff < r.Backoff {
		r.MaxBackoff = max(time.Second, r.Backoff)
	}
	if r.Retryable == nil {
		r.Retryable = func(err error) bool {
			return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !Local(err)
		}
	}
	return r
}

func (r *Retry) wait(retry int) time.Duration {
	// Full jitter: request retries spread over the whole window.
	return rand.N(backoff.Exp(retry, r.Backoff, r.MaxBackoff)) + 1
}

// retryBudget holds thousandths of a retry: every request deposits
// Budget×1000, every retry withdraws 1000, and the balance is capped at
// MinRetries retries so that a long healthy spell does not buy a storm.
type retryBudget struct {
	balance atomic.Int64
	deposit int64
	limit   int64
}

func newRetryBudget(r Retry) *retryBudget {
	b := &retryBudget{deposit: int64(r.Budget * 1000), limit: int64(r.MinRetries) * 1000}
	b.balance.Store(b.limit)
	return b
}

func (b *retryBudget) request() {
	if v := b.balance.Add(b.deposit); v > b.limit {
		b.balance.CompareAndSwap(v, b.limit)
	}
}

func (b *retryBudget) withdraw() bool {
	for {
		v := b.balance.Load()
		if v < 1000 {
			return false
		}
		if b.balance.CompareAndSwap(v, v-1000) {
			return true
		}
	}
}

// Permanent marks err, returned by Do's fn, as a failure not worth
// retrying (a request that must not be sent twice, a bad request): Do
// reports it to the node's stats and returns it at once. errors.Is and
// errors.As see through it.
func Permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }
