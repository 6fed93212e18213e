// Package kvmetrics records every kv call on the metrics package, through
// the Store's observer hook:
//
//	m, _ := metrics.Open(ctx, os.Getenv("METRICS_URL"))
//	store, _ := kv.Open(ctx, os.Getenv("KV_URL"), kv.WithObserver(kvmetrics.Observer(m)))
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

// Observer returns a kv.Observer that records on m. Series are bound on
// first use, so a call costs a label lookup and no allocation.
func Observer(m *metrics.Metrics) kv.Observer {
	requests := m.Counter("kv.requests_total", metrics.Labels("op", "result"), metrics.Help("kv calls by operation and result."))
	took := m.Timer("kv.request_duration_seconds", metrics.Labels("op", "result"), metrics.Help("kv call latency."))
	return func(_ context.Context, op string, _ int, d time.Duration, err error) {
		r := Result(err)
		requests.With("op", op, "result", r).Inc()
		took.With("op", op, "result", r).Observe(d)
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
