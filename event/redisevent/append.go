package redisevent

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/internal/streams"
)

// indexEvery is how often a publisher re-adds a type it already added to
// the type index: once per type per interval instead of an SADD per
// Publish, and a set lost with an unpersisted restart is rebuilt within
// it by every live publisher.
const indexEvery = time.Minute

func (d *driver) Append(ctx context.Context, recs []event.Record) ([]string, error) {
	entries := make([]streams.Entry, len(recs))
	var index []string
	now := time.Now()
	// One buffer for every entry's value and one slice for every entry's
	// fields: two allocations per batch, not per record. A value stays
	// valid when buf grows: it keeps the array it was written to.
	size := 0
	for _, r := range recs {
		size += entrySize(r)
	}
	buf := make([]byte, 0, size)
	vals := make([]any, 0, 2*len(recs))
	key := ""
	for i, r := range recs {
		if r.Timestamp.IsZero() {
			r.Timestamp = now
		}
		start := len(buf)
		var err error
		if buf, err = appendEntry(buf, r); err != nil {
			return nil, fmt.Errorf("%w: %w", event.ErrInvalid, err)
		}
		first := len(vals)
		vals = append(vals, "r", buf[start:len(buf):len(buf)])
		if i == 0 || r.Type != recs[i-1].Type {
			key = d.key(r.Type)
		}
		entries[i] = streams.Entry{Stream: key, Values: vals[first:len(vals):len(vals)]}
		if t, ok := d.known.Load(r.Type); (!ok || now.Sub(t.(time.Time)) > indexEvery) && !slices.Contains(index, r.Type) {
			index = append(index, r.Type)
		}
	}
	var extra func(redis.Pipeliner)
	if len(index) > 0 {
		extra = func(p redis.Pipeliner) {
			for _, t := range index {
				p.SAdd(ctx, d.typesKey(), t)
			}
		}
	}
	ids, _, err := d.w.Add(ctx, entries, extra)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, t := range index {
		d.known.Store(t, now)
	}
	return ids, nil
}
