// Package redisevent is the event backend on Redis Streams, standalone or
// Redis Cluster, through go-redis v9.
//
//	bus, err := event.Open(ctx, "redis://127.0.0.1:6379/0?maxlen=1000000&maxage=168h")
//	bus, err := event.Open(ctx, "redis+cluster://10.0.0.1:6379,10.0.0.2:6379")
//	bus := redisevent.New(client, redisevent.Options{Prefix: "orders:"})
//
// # Layout
//
// One stream per record type, key <prefix>{<type>} (default prefix
// "event:"): the hash tag puts each type's stream on one Cluster slot, so
// every command touches one slot. The set <prefix>types lists the types
// published (subscriptions by pattern or to every type discover new
// streams from it); the dead-letter stream is <prefix>dead. A record is
// one stream entry with one field "r": its JSON without the data, then,
// if it has data, a newline and the data as is (the id is the entry's).
// Entries of the earlier layout (the data in a second field "d") are
// read too.
// Publish is one XADD through internal/streams (the writer log/redislog
// uses too); a publisher adds a type to the index in the same pipeline
// the first time it publishes it, then once a minute, so that an index
// lost with an unpersisted restart comes back. PublishBatch pipelines
// its XADDs: one round trip per server.
//
// Ids are Redis stream ids, ms-seq: time-ordered, unique within a type;
// two types' streams can hand out the same id in the same millisecond.
//
// # Retention
//
// Options.MaxLen (maxlen=N) trims each stream to about N entries with
// XADD MAXLEN ~; Options.MaxAge (maxage=D) drops entries older than D by
// id time with XADD MINID ~ (an XTRIM in the same pipeline when both are
// set). Both are approximate: Redis trims whole nodes (100 entries by
// default). A subscriber or group behind a trimmed entry skips it.
//
// # Subscriptions
//
// A group is a Redis consumer group of the same name on every matching
// stream, created at Start; each subscription is one consumer. Records are
// read with XREADGROUP and acknowledged with XACK, sent off the handler's
// path (what was acknowledged while one XACK was on the wire goes in the
// next, and Stop sends what is left: a member killed before that only
// has those records redelivered); a member's records left
// unacknowledged are taken over by another member with XAUTOCLAIM after
// Options.Visibility (default 30s), at once when the member stopped
// cleanly (it marks them idle). A broadcast subscription reads with XRANGE
// from its own positions. When idle, a subscription on one server waits in
// one blocking XREADGROUP (XREAD) over all its streams for at most
// Options.Block (default 100ms), then looks for new types and records to
// take over; on a Cluster, whose slots a blocking read cannot span, it
// polls every Options.Poll (default 10ms).
//
// An entry that is not a record (another client's XADD to a type's
// stream: no "r" field, not our JSON, another type's record) is reported
// to SubscribeOptions.OnError as event.ErrCorrupt and skipped; a group
// moves it to the dead-letter stream (its fields as the record's Data,
// metadata event-corrupt=true) and acknowledges it. Unknown fields in a
// record's JSON are ignored.
//
// # Durability
//
// Publish returns once Redis has the entry in memory; what survives a
// crash is Redis's persistence configuration. With appendonly yes and
// appendfsync always, every Publish that returned an id, and every
// group's position and pending entries, survive a kill -9 (a test checks
// this); appendfsync everysec loses up to a second of them. With
// persistence off a restart loses every stream, group and dead letter: a
// group starts again at the first record published after the restart
// (the subscription recreates it), so the records in flight are lost
// with the rest. During an outage Publish fails with event.ErrUnavailable
// by its ctx's deadline, and subscriptions retry with event.WithRetry's
// backoff and resume from their group's position.
//
// # Errors
//
// NOAUTH, WRONGPASS, NOPERM map to event.ErrForbidden; connection failures
// and servers that cannot serve to event.ErrUnavailable, the go-redis error
// reachable by errors.As.
package redisevent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/internal/redisurl"
	"github.com/microos/go-os/internal/streams"
)

func init() {
	for _, scheme := range redisurl.Schemes {
		event.Register(scheme, open)
	}
}

// open serves the redisurl forms plus prefix=, maxlen=N and maxage=D
// (Options.Prefix, MaxLen, MaxAge); the other parameters are go-redis's.
func open(_ context.Context, u *url.URL) (event.Driver, error) {
	q := u.Query()
	var o Options
	o.Prefix = q.Get("prefix")
	if v := q.Get("maxlen"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: maxlen %q: want a count", event.ErrInvalid, v)
		}
		o.MaxLen = n
	}
	if v := q.Get("maxage"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%w: maxage %q: want a duration", event.ErrInvalid, v)
		}
		o.MaxAge = d
	}
	for _, k := range []string{"prefix", "maxlen", "maxage"} {
		q.Del(k)
	}
	v := *u
	v.RawQuery = q.Encode()
	c, err := redisurl.Client(&v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", event.ErrInvalid, err)
	}
	return newDriver(c, o, true), nil
}

// Options configure the driver; the zero value is the default.
type Options struct {
	Prefix     string        // key prefix, default "event:"; must not contain '{'
	MaxLen     int64         // per stream, approximate (XADD MAXLEN ~); 0 = unbounded
	MaxAge     time.Duration // per stream, approximate (XADD MINID ~ now-MaxAge); 0 = unbounded
	Visibility time.Duration // idle time before another member takes a record over; default 30s
	Poll       time.Duration // idle poll interval on a Cluster; default 10ms
	Block      time.Duration // on one server, the longest blocking read of an idle subscription; default 100ms
}

// New returns a Bus on client; the Bus does not close a client it was handed.
func New(client redis.UniversalClient, o Options, opts ...event.Option) *event.Bus {
	return event.New(newDriver(client, o, false), opts...)
}

func newDriver(c redis.UniversalClient, o Options, owned bool) *driver {
	if o.Prefix == "" {
		o.Prefix = "event:"
	}
	if o.Visibility <= 0 {
		o.Visibility = 30 * time.Second
	}
	if o.Block <= 0 {
		o.Block = 100 * time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 10 * time.Millisecond
	}
	d := &driver{c: c, o: o, owned: owned}
	d.w = streams.Writer{Client: c, Retention: streams.Retention{MaxLen: o.MaxLen, MaxAge: o.MaxAge}}
	return d
}

type driver struct {
	c     redis.UniversalClient
	w     streams.Writer
	o     Options
	owned bool
	known sync.Map // type -> time.Time of its last SADD to the type index
}

func (d *driver) key(typ string) string { return d.o.Prefix + "{" + typ + "}" }
func (d *driver) typesKey() string      { return d.o.Prefix + "types" }
func (d *driver) deadKey() string       { return d.o.Prefix + "dead" }

type stored struct {
	Type      string            `json:"t"`
	Origin    event.Origin      `json:"o"`
	Timestamp time.Time         `json:"ts"`
	RootID    string            `json:"root,omitempty"`
	ParentID  string            `json:"parent,omitempty"`
	Metadata  map[string]string `json:"m,omitempty"`
	Data      []byte            `json:"d,omitempty"` // read only: the data follows the JSON
}

// decode reads an entry of the stream of type typ; an entry another client
// wrote (no "r" field, not our JSON, another type's record) is ErrCorrupt.
func decode(m redis.XMessage, typ string) (event.Record, error) {
	s, ok := m.Values["r"].(string)
	if !ok {
		return event.Record{ID: m.ID}, fmt.Errorf("%w: entry %s of %q has no field r: %v", event.ErrCorrupt, m.ID, typ, m.Values)
	}
	hdr, data, _ := strings.Cut(s, "\n")
	var st stored
	if err := json.Unmarshal([]byte(hdr), &st); err != nil {
		return event.Record{ID: m.ID}, fmt.Errorf("%w: entry %s of %q: %w", event.ErrCorrupt, m.ID, typ, err)
	}
	if st.Type == "" || (typ != "" && st.Type != typ) {
		return event.Record{ID: m.ID}, fmt.Errorf("%w: entry %s of %q holds a record of type %q", event.ErrCorrupt, m.ID, typ, st.Type)
	}
	r := event.Record{ID: m.ID, Type: st.Type, Origin: st.Origin, Timestamp: st.Timestamp, RootID: st.RootID,
		ParentID: st.ParentID, Metadata: st.Metadata, Data: st.Data}
	if d, ok := m.Values["d"].(string); ok && len(d) > 0 { // the earlier layout
		r.Data = []byte(d)
	} else if len(data) > 0 {
		r.Data = []byte(data)
	}
	if r.RootID == "" {
		r.RootID = r.ID
	}
	return r, nil
}

func matches(types []string, typ string) bool {
	if len(types) == 0 {
		return true
	}
	for _, p := range types {
		if ok, _ := path.Match(p, typ); ok || p == typ {
			return true
		}
	}
	return false
}

func (d *driver) types(ctx context.Context, sel []string) ([]string, error) {
	all, err := d.c.SMembers(ctx, d.typesKey()).Result()
	if err != nil {
		return nil, mapErr(err)
	}
	var out []string
	for _, t := range all {
		if matches(sel, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// idLess orders ms-seq ids numerically.
func idLess(a, b string) bool {
	am, as := split(a)
	bm, bs := split(b)
	return am < bm || (am == bm && as < bs)
}

func split(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

func (d *driver) Read(ctx context.Context, q event.Query) ([]event.Record, string, error) {
	types, err := d.types(ctx, q.Types)
	if err != nil {
		return nil, "", err
	}
	start, end := "-", "+"
	if q.AfterID != "" {
		start = "(" + q.AfterID
	} else if !q.From.IsZero() {
		start = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	var all []event.Record
	for _, t := range types {
		from := start
		for {
			ms, err := d.c.XRangeN(ctx, d.key(t), from, end, 1000).Result()
			if err != nil {
				return nil, "", mapErr(err)
			}
			for _, m := range ms {
				r, err := decode(m, t)
				if err != nil {
					continue // another client's entry: not a record (a subscription reports it)
				}
				if (q.RootID != "" && r.RootID != q.RootID) || (!q.From.IsZero() && r.Timestamp.Before(q.From)) ||
					(!q.To.IsZero() && !r.Timestamp.Before(q.To)) {
					continue
				}
				all = append(all, r)
			}
			if len(ms) < 1000 {
				break
			}
			from = "(" + ms[len(ms)-1].ID
		}
	}
	slices.SortStableFunc(all, func(a, b event.Record) int {
		if idLess(a.ID, b.ID) {
			return -1
		}
		if idLess(b.ID, a.ID) {
			return 1
		}
		return 0
	})
	if len(all) > q.Limit {
		return all[:q.Limit], all[q.Limit-1].ID, nil
	}
	return all, "", nil
}

// startID is the exclusive position a new cursor or group begins after.
func (d *driver) startID(ctx context.Context, stream string, s event.Start, fresh bool) (string, error) {
	if fresh {
		return "0-0", nil // a stream that appeared after the subscription began
	}
	switch {
	case s == event.FromBeginning:
		return "0-0", nil
	case s == event.FromNow:
		ms, err := d.c.XRevRangeN(ctx, stream, "+", "-", 1).Result()
		if err != nil {
			return "", mapErr(err)
		}
		if len(ms) == 0 {
			return "0-0", nil
		}
		return ms[0].ID, nil
	}
	if id, ok := s.ID(); ok {
		return id, nil
	}
	t, _ := s.Time()
	if ms := t.UnixMilli(); ms > 0 {
		return strconv.FormatInt(ms-1, 10) + "-18446744073709551615", nil
	}
	return "0-0", nil
}

func (d *driver) Cursor(ctx context.Context, o event.SubscribeOptions) (event.Cursor, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	c := &cursor{d: d, o: o, consumer: hex.EncodeToString(b[:]), pos: map[string]string{}, q: map[string][]event.Record{}}
	if err := c.discover(ctx, false); err != nil {
		return nil, err
	}
	if o.Group != "" {
		c.acks = newAcker(d.c, o.Group, c.health.Observe, 50*time.Millisecond, 2*time.Second)
	}
	return c, nil
}

type cursor struct {
	d        *driver
	o        event.SubscribeOptions
	consumer string

	health event.Health
	acks   *acker // a group's: XACKs sent off the workers' path

	mu  sync.Mutex
	pos map[string]string         // broadcast: last id per stream; group: "" once the group exists
	q   map[string][]event.Record // read, not handed out, per type in stream order
	bad []error                   // entries that are not records, to report
	wm  uint64                    // watermark: every record below this ms was read

	looked time.Time // the latest look for new types and records to take over
}

func (c *cursor) Check(ctx context.Context) error { return c.health.Check(ctx) }

// pick hands out the head, among the types' queues, of the lowest id
// millisecond below the watermark, then the earliest publish timestamp:
// each type's order is its stream's, types interleave in publish order.
func (c *cursor) pick() (event.Record, bool) {
	best := ""
	for t, q := range c.q {
		if len(q) == 0 || (len(c.pos) > 1 && msOf(q[0].ID) >= c.wm) {
			continue // one stream is in order by itself: only several wait for the watermark
		}
		if best == "" {
			best = t
			continue
		}
		a, b := q[0], c.q[best][0]
		if am, bm := msOf(a.ID), msOf(b.ID); am < bm || (am == bm && a.Timestamp.Before(b.Timestamp)) {
			best = t
		}
	}
	if best == "" {
		return event.Record{}, false
	}
	r := c.q[best][0]
	c.q[best] = c.q[best][1:]
	return r, true
}

// discover adds the streams of types published since; fresh ones start at 0.
func (c *cursor) discover(ctx context.Context, fresh bool) error {
	types, err := c.d.types(ctx, c.o.Types)
	if err != nil {
		return err
	}
	for _, t := range types {
		if _, ok := c.pos[t]; ok {
			continue
		}
		k := c.d.key(t)
		id, err := c.d.startID(ctx, k, c.o.Start, fresh)
		if err != nil {
			return err
		}
		if c.o.Group != "" {
			err := c.d.c.XGroupCreateMkStream(ctx, k, c.o.Group, id).Err()
			if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
				return mapErr(err)
			}
		}
		c.pos[t] = id
	}
	return nil
}

func (c *cursor) Next(ctx context.Context) (event.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return event.Record{}, err
		}
		if len(c.bad) > 0 {
			err := c.bad[0]
			c.bad = c.bad[1:]
			return event.Record{}, err
		}
		if r, ok := c.pick(); ok {
			return r, nil
		}
		// On one server an idle subscription waits in block; it looks for
		// new types and records to take over once per Options.Block, and
		// one stream is read by block alone. A Cluster does all every poll.
		_, standalone := c.d.c.(*redis.Client)
		look := !standalone || time.Since(c.looked) >= c.d.o.Block
		var err error
		if look {
			c.looked = time.Now()
			err = c.discover(ctx, true)
		}
		if err == nil && (look || len(c.pos) > 1) {
			err = c.fill(ctx, look)
		}
		c.health.Observe(err)
		if err != nil {
			return event.Record{}, err // the Bus backs off
		}
		if len(c.bad) > 0 {
			continue
		}
		if r, ok := c.pick(); ok {
			return r, nil
		}
		if c.queued() {
			continue // held back by the watermark: the next read releases them
		}
		if standalone && len(c.pos) > 0 {
			// Nothing to hand out: before this worker goes to Redis (a
			// write, then it parks), let the goroutines its handler woke
			// run first, such as the caller waiting on the record just
			// handled; otherwise they wait out the write of the read.
			runtime.Gosched()
			err := c.block(ctx)
			c.health.Observe(err)
			if err != nil {
				return event.Record{}, err
			}
			continue
		}
		t := time.NewTimer(c.d.o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return event.Record{}, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *cursor) queued() bool {
	for _, q := range c.q {
		if len(q) > 0 {
			return true
		}
	}
	return false
}

// block waits for new entries on every stream of the subscription in one
// blocking XREADGROUP (XREAD for a broadcast) of at most Options.Block,
// which one server can serve (a Cluster's slots cannot: it polls).
func (c *cursor) block(ctx context.Context) error {
	types := make([]string, 0, len(c.pos))
	for t := range c.pos {
		types = append(types, t)
	}
	slices.Sort(types)
	streams := make([]string, 0, 2*len(types))
	for _, t := range types {
		streams = append(streams, c.d.key(t))
	}
	for _, t := range types {
		if c.o.Group != "" {
			streams = append(streams, ">")
		} else {
			streams = append(streams, c.pos[t])
		}
	}
	var res []redis.XStream
	var err error
	if c.o.Group != "" {
		res, err = c.d.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: c.o.Group, Consumer: c.consumer,
			Streams: streams, Count: 100, Block: c.d.o.Block}).Result()
	} else {
		res, err = c.d.c.XRead(ctx, &redis.XReadArgs{Streams: streams, Count: 100, Block: c.d.o.Block}).Result()
	}
	if err == redis.Nil || (err != nil && ctx.Err() != nil) {
		return nil
	}
	if err != nil {
		return mapErr(err)
	}
	for _, st := range res {
		t := types[slices.Index(streams[:len(types)], st.Stream)]
		if c.o.Group == "" && len(st.Messages) > 0 {
			c.pos[t] = st.Messages[len(st.Messages)-1].ID
		}
		if err := c.take(ctx, t, st.Messages); err != nil {
			return err
		}
	}
	return nil
}

// take queues the records among ms, read from type t's stream, and deals
// with the entries that are not records.
func (c *cursor) take(ctx context.Context, t string, ms []redis.XMessage) error {
	for _, m := range ms {
		r, err := decode(m, t)
		if err != nil {
			if err := c.deadCorrupt(ctx, t, m, err); err != nil {
				return err // left pending: it is read again
			}
			c.bad = append(c.bad, err)
			continue
		}
		c.q[t] = append(c.q[t], r)
	}
	return nil
}

func msOf(id string) uint64 { ms, _ := split(id); return ms }

// fill reads every stream once. Records of different types are handed out
// in id order: those of the last millisecond before the read began are
// held back until the next read, when no earlier one can still appear.
func (c *cursor) fill(ctx context.Context, claim bool) error {
	if len(c.pos) > 1 {
		now, err := c.d.c.Time(ctx).Result()
		if err != nil {
			return mapErr(err)
		}
		defer func() { c.wm = uint64(now.UnixMilli()) }()
	}
	types := make([]string, 0, len(c.pos))
	for t := range c.pos {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		k := c.d.key(t)
		var ms []redis.XMessage
		if c.o.Group == "" {
			var err error
			ms, err = c.d.c.XRangeN(ctx, k, "("+c.pos[t], "+", 100).Result()
			if err != nil {
				return mapErr(err)
			}
			if len(ms) > 0 {
				c.pos[t] = ms[len(ms)-1].ID
			}
		} else {
			if claim {
				claimed, _, err := c.d.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: k, Group: c.o.Group,
					MinIdle: c.d.o.Visibility, Start: "0-0", Count: 100, Consumer: c.consumer}).Result()
				if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
					if err := c.regroup(ctx, k); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return mapErr(err)
				}
				ms = claimed
			}
			if len(ms) == 0 {
				res, err := c.d.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: c.o.Group, Consumer: c.consumer,
					Streams: []string{k, ">"}, Count: 100, Block: -1}).Result()
				if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
					if err := c.regroup(ctx, k); err != nil {
						return err
					}
					continue
				}
				if err != nil && err != redis.Nil {
					return mapErr(err)
				}
				for _, s := range res {
					ms = append(ms, s.Messages...)
				}
			}
		}
		if err := c.take(ctx, t, ms); err != nil {
			return err
		}
	}
	return nil
}

// regroup makes the group again on a stream that lost it (a restart
// without persistence), from the stream's beginning: what was published
// after the restart.
func (c *cursor) regroup(ctx context.Context, k string) error {
	err := c.d.c.XGroupCreateMkStream(ctx, k, c.o.Group, "0-0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return mapErr(err)
	}
	return nil
}

// Ack queues r's XACK for the acker, which sends it with the others
// queued meanwhile; Close sends what is left.
func (c *cursor) Ack(_ context.Context, r event.Record) error {
	if c.acks != nil {
		c.acks.add(c.d.key(r.Type), r.ID)
	}
	return nil
}

// Release marks r idle past the visibility timeout, so that the next
// XAUTOCLAIM of any member takes it over.
func (c *cursor) Release(ctx context.Context, r event.Record) error {
	if c.o.Group == "" {
		return nil
	}
	idle := strconv.FormatInt(c.d.o.Visibility.Milliseconds()+1000, 10)
	err := mapErr(c.d.c.Do(ctx, "XCLAIM", c.d.key(r.Type), c.o.Group, c.consumer, 0, r.ID, "IDLE", idle, "JUSTID").Err())
	c.health.Observe(err)
	return err
}

// Close sends the acknowledgements still queued, hands back what was
// read but not handed out, then leaves.
func (c *cursor) Close() error {
	c.mu.Lock()
	var buf []event.Record
	for _, q := range c.q {
		buf = append(buf, q...)
	}
	c.q = nil
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if c.acks != nil {
		errs = append(errs, c.acks.close(ctx))
	}
	for _, r := range buf {
		errs = append(errs, c.Release(ctx, r))
	}
	return errors.Join(errs...)
}

func (d *driver) DeadLetter(ctx context.Context, dl event.DeadLetter) error {
	v, err := encode(dl.Record)
	if err != nil {
		return fmt.Errorf("%w: %w", event.ErrInvalid, err)
	}
	// The dead letters are kept whatever the records' retention: through a writer without one.
	dead := streams.Writer{Client: d.c}
	_, _, err = dead.Add(ctx, []streams.Entry{{Stream: d.deadKey(), Values: append(v, "id", dl.Record.ID, "group", dl.Group, "err", dl.Err)}}, nil)
	return mapErr(err)
}

func (d *driver) deadAll(ctx context.Context) ([]redis.XMessage, error) {
	ms, err := d.c.XRange(ctx, d.deadKey(), "-", "+").Result()
	return ms, mapErr(err)
}

func (d *driver) DeadLetters(ctx context.Context) ([]event.DeadLetter, error) {
	ms, err := d.deadAll(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]event.DeadLetter, 0, len(ms))
	for _, m := range ms {
		r, err := decode(m, "")
		if err != nil {
			continue
		}
		r.ID, _ = m.Values["id"].(string)
		if r.RootID == m.ID {
			r.RootID = r.ID
		}
		g, _ := m.Values["group"].(string)
		e, _ := m.Values["err"].(string)
		out = append(out, event.DeadLetter{Record: r, Group: g, Err: e})
	}
	return out, nil
}

func (d *driver) TakeDead(ctx context.Context, id string) (event.Record, bool, error) {
	ms, err := d.deadAll(ctx)
	if err != nil {
		return event.Record{}, false, err
	}
	for _, m := range ms {
		if v, _ := m.Values["id"].(string); v != id {
			continue
		}
		r, err := decode(m, "")
		if err != nil {
			return event.Record{}, false, err
		}
		n, err := d.c.XDel(ctx, d.deadKey(), m.ID).Result()
		if err != nil {
			return event.Record{}, false, mapErr(err)
		}
		r.ID = id
		return r, n == 1, nil
	}
	return event.Record{}, false, nil
}

func (d *driver) Check(ctx context.Context) error { return mapErr(d.c.Ping(ctx).Err()) }

func (d *driver) As(i any) bool {
	return redisurl.As(d.c, i)
}

func (d *driver) Close() error {
	if d.owned {
		return d.c.Close()
	}
	return nil
}

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("%w: %w", event.ErrClosed, err)
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		if strings.HasPrefix(msg, "NOAUTH") || strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOPERM") {
			return fmt.Errorf("%w: %w", event.ErrForbidden, err)
		}
	}
	return fmt.Errorf("%w: %w", event.ErrUnavailable, err)
}
