// Package streams is the one XADD implementation of the module: the
// batching Redis Streams writer behind event/redisevent's Publish and
// log/redislog's Output. A batch is one pipeline (one round trip per
// server on a Cluster), each entry trimmed by the stream's retention.
package streams

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Retention bounds every stream written. Both are approximate ("~"): Redis
// trims whole macro nodes, so a stream keeps a little more than asked.
type Retention struct {
	MaxLen int64         // XADD MAXLEN ~ N; 0 = no bound
	MaxAge time.Duration // XADD MINID ~ <now-MaxAge>: entries older go; 0 = no bound
}

// Entry is one XADD: Values are field, value pairs (strings or []byte).
type Entry struct {
	Stream string
	Values []any
}

// Writer appends entries. The zero value needs a Client; it is safe for
// concurrent use.
type Writer struct {
	Client    redis.UniversalClient
	Retention Retention
	// Now is the clock MaxAge is measured with (time.Now when nil).
	Now func() time.Time
}

// Add appends entries, in order, in one pipeline; extra, if not nil,
// queues more commands into the same round trip (event's type index).
// ids[i] is entry i's stream id, or "" when its XADD failed; written
// counts the ids set. err is the first failure (a connection lost mid-
// pipeline fails some entries after Redis applied them: their reply was
// lost, so a failed entry may still be in the stream; a written one is).
func (w *Writer) Add(ctx context.Context, entries []Entry, extra func(redis.Pipeliner)) (ids []string, written int, err error) {
	if len(entries) == 0 {
		return nil, 0, nil
	}
	minID := ""
	if w.Retention.MaxAge > 0 {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		minID = strconv.FormatInt(now().Add(-w.Retention.MaxAge).UnixMilli(), 10)
	}
	if len(entries) == 1 && extra == nil && (minID == "" || w.Retention.MaxLen == 0) {
		// One command: no pipeline to build (the common single Publish).
		id, err := w.Client.XAdd(ctx, w.args(entries[0], minID)).Result()
		if err != nil {
			return []string{""}, 0, err
		}
		return []string{id}, 1, nil
	}
	cmds := make([]*redis.StringCmd, len(entries))
	_, err = w.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		trimmed := map[string]bool(nil)
		for i, e := range entries {
			if w.Retention.MaxLen > 0 && minID != "" && !trimmed[e.Stream] {
				// XADD takes one bound: age goes as an XTRIM, once per stream and batch.
				if trimmed == nil {
					trimmed = map[string]bool{}
				}
				trimmed[e.Stream] = true
				defer p.XTrimMinIDApprox(ctx, e.Stream, minID, 0)
			}
			cmds[i] = p.XAdd(ctx, w.args(e, minID))
		}
		if extra != nil {
			extra(p)
		}
		return nil
	})
	ids = make([]string, len(entries))
	for i, c := range cmds {
		if c.Err() == nil {
			ids[i] = c.Val()
			written++
		}
	}
	return ids, written, err
}

// args is e's XADD with the retention bound: MAXLEN when set (MaxAge then
// goes as an XTRIM), else MINID.
func (w *Writer) args(e Entry, minID string) *redis.XAddArgs {
	a := &redis.XAddArgs{Stream: e.Stream, Values: e.Values}
	switch {
	case w.Retention.MaxLen > 0:
		a.MaxLen, a.Approx = w.Retention.MaxLen, true
	case minID != "":
		a.MinID, a.Approx = minID, true
	}
	return a
}
