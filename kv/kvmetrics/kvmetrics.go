// Package kvmetrics records every kv call on the metrics package, through
// a Store hook:
//
//	m, _ := metrics.Open(ctx, os.Getenv("METRICS_URL"))
//	store, _ := kv.Open(ctx, os.Getenv("KV_URL"), kv.WithHook(kvmetrics.Hook(m)))
//
// Counter kv.requests_total and timer kv.request_duration_seconds, labels
// op (get, getmulti, set, add, cas, delete) and result (ok, not_found,
// exists, conflict, invalid, unavailable, forbidden, closed,
// error): a miss, a CAS
// conflict and a backend outage are told apart on the dashboard as they
// are in code.
package kvmetrics

import (
	"context"
	"errors"
	"time"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/metrics"
)

// Hook returns a kv.Hook that records every call on m. Series are bound
// on first use, so recording costs a label lookup and no allocation. A nil
// m records nothing.
func Hook(m *metrics.Metrics) kv.Hook {
	requests := m.Counter("kv.requests_total", metrics.Labels("op", "result"), metrics.Help("kv calls by operation and result."))
	took := m.Timer("kv.request_duration_seconds", metrics.Labels("op", "result"), metrics.Help("kv call latency."))
	return func(next kv.Invoker) kv.Invoker {
		return func(ctx context.Context, c *kv.Call) error {
			start := time.Now()
			err := next(ctx, c)
			r := Result(err)
			requests.With("op", c.Op, "result", r).Inc()
			took.With("op", c.Op, "result", r).Observe(time.Since(start))
			return err
		}
	}
}

// Result names the outcome of a kv call for a metric label.
func Result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, kv.ErrNotFound):
		return "not_found"
	case errors.Is(err, kv.ErrExists):
		return "exists"
	case errors.Is(err, kv.ErrConflict):
		return "conflict"
	case errors.Is(err, kv.ErrInvalidKey), errors.Is(err, kv.ErrInvalidItem):
		return "invalid"
	case errors.Is(err, kv.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, kv.ErrForbidden):
		return "forbidden"
	case errors.Is(err, kv.ErrClosed):
		return "closed"
	}
	return "error"
}
