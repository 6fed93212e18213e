// Package streams is the one XADD implementation of the module: the
// batching Redis Streams writer behind event/redisevent's Publish and
// log/redislog's Output. A batch is one pipeline (one round trip per
// server on a Cluster), each entry trimmed by the stream's retention.
package streams

import (
	"context"
	"slices"
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
	bound := w.bound(minID)
	// Each XADD's arguments are built here, in one backing array for the
	// whole batch, rather than through redis.XAddArgs: no per-entry
	// XAddArgs, args slice or boxed stream name (one per run of entries
	// to the same stream).
	n := 0
	for _, e := range entries {
		n += 3 + len(bound) + len(e.Values)
	}
	args := make([]any, 0, n)
	cmds := make([]redis.Cmder, len(entries))
	var key any
	for i, e := range entries {
		if i == 0 || e.Stream != entries[i-1].Stream {
			key = e.Stream
		}
		first := len(args)
		args = append(args, "xadd", key)
		args = append(args, bound...)
		args = append(args, "*")
		args = append(args, e.Values...)
		cmds[i] = redis.NewStringCmd(ctx, args[first:len(args):len(args)]...)
	}
	trim := w.Retention.MaxLen > 0 && minID != ""
	if len(entries) == 1 && extra == nil && !trim {
		// One command: no pipeline to build (the common single Publish).
		_ = w.Client.Process(ctx, cmds[0])
		id, err := cmds[0].(*redis.StringCmd).Result()
		if err != nil {
			return []string{""}, 0, err
		}
		return []string{id}, 1, nil
	}
	p := w.Client.Pipeline()
	_ = p.BatchProcess(ctx, cmds...)
	if extra != nil {
		extra(p)
	}
	if trim {
		// XADD takes one bound: age goes as an XTRIM, once per stream and batch.
		for i, e := range entries {
			if i == 0 || e.Stream != entries[i-1].Stream {
				if !slices.ContainsFunc(entries[:i], func(o Entry) bool { return o.Stream == e.Stream }) {
					p.XTrimMinIDApprox(ctx, e.Stream, minID, 0)
				}
			}
		}
	}
	_, err = p.Exec(ctx)
	ids = make([]string, len(entries))
	for i, c := range cmds {
		if c.Err() == nil {
			ids[i] = c.(*redis.StringCmd).Val()
			written++
		}
	}
	return ids, written, err
}

// bound is the retention part of every XADD: MAXLEN ~ N when set (MaxAge
// then goes as an XTRIM), else MINID ~ minID.
func (w *Writer) bound(minID string) []any {
	switch {
	case w.Retention.MaxLen > 0:
		return []any{"maxlen", "~", w.Retention.MaxLen}
	case minID != "":
		return []any{"minid", "~", minID}
	}
	return nil
}
