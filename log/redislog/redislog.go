// Package redislog is a log.Output that appends every line to a Redis
// Stream, so that the logs of every instance are aggregated centrally: a
// collector (Vector, a consumer group of your own) reads the stream with
// XREADGROUP and ships it on.
//
//	logger, err := log.Open(ctx, "redis://127.0.0.1:6379/0?stream=logs:api&maxlen=1000000&async=true")
//	out, err := redislog.New(client, "logs:api", redislog.Options{MaxLen: 1_000_000}) // a client you own
//
// Each line is one stream entry with the field "line" holding the JSON
// object. A Write sends its lines in one pipelined round trip, so put the
// output behind log's async queue (async=true), which hands it whole
// batches from its own goroutine and keeps Redis's latency off the caller.
//
// # Errors
//
// A failed round trip (connection refused, timeout, Redis down) is
// log.ErrOutput wrapping go-redis's error, counted in Stats.Errors; the
// lines Redis did not acknowledge are lost and counted by FailedLines
// (Stats.Written counts those it did, in a failed write too), so that
// written + the queue's dropped + failed is every line logged. The next
// Write tries again on a fresh connection, so logging resumes when Redis
// is back. A line counted as written is in the stream as long as Redis
// keeps it (appendfsync always survives a kill -9; without persistence
// a restart loses the stream). After Close, Write returns log.ErrClosed.
//
// The XADDs go through internal/streams, the writer event/redisevent
// publishes with.
package redislog

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/redisurl"
	"github.com/microos/go-os/internal/streams"
	"github.com/microos/go-os/log"
)

func init() {
	for _, scheme := range redisurl.Schemes {
		log.Register(scheme, open)
	}
}

// Field is the stream entry field that holds the line.
const Field = "line"

// Options configures New; the zero value is usable.
type Options struct {
	// MaxLen trims the stream to about this many entries on every write
	// (XADD MAXLEN ~), so that it never fills Redis's memory; 0 never trims.
	MaxLen int64
	// Timeout bounds one Write's round trip; 0 means 5 s.
	Timeout time.Duration
}

// Output appends lines to a Redis Stream. It is safe for concurrent use.
type Output struct {
	c      redis.UniversalClient
	w      streams.Writer
	owned  bool
	stream string
	opts   Options

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	written, failed, errs atomic.Uint64
	lastErr               atomic.Pointer[error]
}

// New returns an Output appending to stream through client, which it does
// not close.
func New(client redis.UniversalClient, stream string, opts Options) (*Output, error) {
	return newOutput(client, false, stream, opts)
}

func newOutput(c redis.UniversalClient, owned bool, stream string, opts Options) (*Output, error) {
	if stream == "" {
		return nil, fmt.Errorf("%w: redislog: empty stream name", log.ErrInvalidOption)
	}
	if opts.MaxLen < 0 || opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: redislog: negative MaxLen %d or Timeout %s", log.ErrInvalidOption, opts.MaxLen, opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	w := streams.Writer{Client: c, Retention: streams.Retention{MaxLen: opts.MaxLen}}
	return &Output{c: c, w: w, owned: owned, stream: stream, opts: opts}, nil
}

// open serves redis://[user:password@]host:port/db?stream=NAME&maxlen=N&timeout=D
// (rediss:// for TLS; redis+cluster://h1,h2 for a Cluster, as in kv); the
// other parameters are go-redis's (dial_timeout...).
func open(_ context.Context, u *url.URL) (log.Output, error) {
	q := u.Query()
	stream := q.Get("stream")
	if stream == "" {
		stream = "logs"
	}
	var opts Options
	if v := q.Get("maxlen"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: maxlen %q: want a count", log.ErrInvalidOption, v)
		}
		opts.MaxLen = n
	}
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%w: timeout %q: want a duration", log.ErrInvalidOption, v)
		}
		opts.Timeout = d
	}
	for _, k := range []string{"stream", "maxlen", "timeout"} {
		q.Del(k)
	}
	v := *u
	v.RawQuery = q.Encode()
	c, err := redisurl.Client(&v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", log.ErrInvalidOption, err)
	}
	return newOutput(c, true, stream, opts)
}

// Write appends each line of p as one entry, in one round trip.
func (o *Output) Write(p []byte) (int, error) {
	if o.closed.Load() {
		return 0, fmt.Errorf("redislog: %w", log.ErrClosed)
	}
	var entries []streams.Entry
	for rest := p; len(rest) > 0; {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		rest = after
		if len(line) == 0 {
			continue
		}
		entries = append(entries, streams.Entry{Stream: o.stream, Values: []any{Field, line}})
	}
	if len(entries) == 0 {
		return len(p), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.opts.Timeout)
	defer cancel()
	_, n, err := o.w.Add(ctx, entries, nil)
	o.written.Add(uint64(n))
	if err != nil {
		o.failed.Add(uint64(len(entries) - n))
		err = fmt.Errorf("redislog: XADD to %s: %w: %w", o.stream, log.ErrOutput, err)
		o.errs.Add(1)
		o.lastErr.Store(&err)
		return 0, err
	}
	return len(p), nil
}

// Sync returns at once: a Write returns only after Redis acknowledged its
// entries, so there is nothing buffered to commit. (How durable Redis keeps
// them is its persistence configuration's business.)
func (o *Output) Sync() error { return nil }

// Close stops writes and closes the client if Open created it.
func (o *Output) Close() error {
	o.closeOnce.Do(func() {
		o.closed.Store(true)
		if o.owned {
			o.closeErr = o.c.Close()
		}
	})
	return o.closeErr
}

// FailedLines counts the lines of failed writes that Redis did not
// acknowledge: with Stats().Written (lines Redis acknowledged, in a
// failed write too) and the queue's Dropped, it accounts for every line
// logged. A failed line may still be in the stream when the connection
// was lost after Redis applied it and before its reply arrived.
func (o *Output) FailedLines() uint64 { return o.failed.Load() }

// Stats counts the lines Redis acknowledged and the failed writes.
func (o *Output) Stats() log.Stats {
	s := log.Stats{Written: o.written.Load(), Errors: o.errs.Load()}
	if e := o.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Remote reports that the Output writes over the network, so that
// log.Open queues its lines (log.Remote).
func (o *Output) Remote() bool { return true }
