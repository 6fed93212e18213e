package event

import (
	"context"
	"sync"
	"time"
)

// Dedupe wraps h so that a record id handled successfully within window is
// not handled again (at-least-once delivery made effectively-once for
// duplicates that arrive within the window, in this process). now is the
// clock (nil = time.Now). Ids are kept in memory, at most for window.
func Dedupe(window time.Duration, now func() time.Time, h Handler) Handler {
	return DedupeBy(window, now, func(r Record) string { return r.ID }, h)
}

// DedupeBy is Dedupe by a key of the record other than its id: copies of
// one record published twice have different ids but the same key (the
// outbox's outbox.Key, a business id in Metadata).
func DedupeBy(window time.Duration, now func() time.Time, key func(Record) string, h Handler) Handler {
	if now == nil {
		now = time.Now
	}
	var mu sync.Mutex
	seen := map[string]time.Time{}
	var order []string
	return func(ctx context.Context, r Record) error {
		id := key(r)
		t := now()
		mu.Lock()
		for len(order) > 0 && t.Sub(seen[order[0]]) >= window {
			delete(seen, order[0])
			order = order[1:]
		}
		if at, ok := seen[id]; ok && t.Sub(at) < window {
			mu.Unlock()
			return nil
		}
		mu.Unlock()
		if err := h(ctx, r); err != nil {
			return err
		}
		mu.Lock()
		if _, ok := seen[id]; !ok {
			seen[id] = t
			order = append(order, id)
		}
		mu.Unlock()
		return nil
	}
}
