package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"net/url"

	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/internal/urlopen"
	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/trace"
)

// The errors every backend maps its own onto.
var (
	ErrInvalid     = oserr.New(oserr.Invalid, "event: invalid record or option")
	ErrClosed      = oserr.New(oserr.Closed, "event: bus closed")
	ErrUnavailable = oserr.New(oserr.Unavailable, "event: backend unavailable")
	ErrCorrupt     = oserr.New(oserr.Corrupt, "event: stored record unreadable")
	ErrForbidden   = oserr.New(oserr.Forbidden, "event: backend refused the credentials")
)

// Origin says which service published a record.
type Origin struct{ Service, Version, Instance string }

// Record is one event.
type Record struct {
	ID        string // time-ordered, unique; set by Publish
	Type      string // dotted, e.g. "config.changed"
	Origin    Origin
	Timestamp time.Time
	RootID    string // the first record of the flow; its own ID for a root
	ParentID  string // the record being handled when this one was published
	Metadata  map[string]string
	Data      []byte
}

// Handler handles one record: nil acknowledges it, an error redelivers it.
type Handler func(ctx context.Context, rec Record) error

type ctxKey struct{}

// FromContext returns the record a handler is running for.
func FromContext(ctx context.Context) (Record, bool) {
	r, ok := ctx.Value(ctxKey{}).(Record)
	return r, ok
}

// Option configures a Bus.
type Option func(*Bus)

// WithLogger sets where dead-lettered records are reported (default: nowhere).
func WithLogger(l *slog.Logger) Option {
	return func(b *Bus) {
		if l != nil {
			b.logger = l
		}
	}
}

// WithClock sets the time source for timestamps and ids.
func WithClock(now func() time.Time) Option { return func(b *Bus) { b.now = now } }

// WithService sets the Origin of every published record.
func WithService(name, version, instance string) Option {
	return func(b *Bus) { b.origin = Origin{name, version, instance} }
}

// WithRetention keeps at most maxLen records and none older than maxAge
// (0 = no bound). A subscriber behind the trimmed records skips them.
func WithRetention(maxLen int, maxAge time.Duration) Option {
	return func(b *Bus) { b.maxLen, b.maxAge = maxLen, maxAge }
}

// WithRetry sets the backoff of a subscription's reads while the backend
// fails: from min, doubling, capped at max, with jitter (default 100ms,
// 5s). Publish never retries: it returns the error within its ctx.
func WithRetry(min, max time.Duration) Option {
	return func(b *Bus) {
		if min > 0 && max >= min {
			b.retryMin, b.retryMax = min, max
		}
	}
}

// WithPublishTimeout bounds every Publish and PublishBatch by d (0, the
// default: only by the caller's ctx), for callers whose ctx has no
// deadline; an earlier deadline of ctx still applies.
func WithPublishTimeout(d time.Duration) Option {
	return func(b *Bus) {
		if d > 0 {
			b.publishTimeout = d
		}
	}
}

// Bus is the portable type: publish, subscribe, read.
type Bus struct {
	publishTimeout     time.Duration
	retryMin, retryMax time.Duration
	health             tracker // of Publish's appends
	published          atomic.Bool
	now                func() time.Time
	origin             Origin
	tracer             *trace.Tracer
	logger             *slog.Logger
	maxLen             int
	maxAge             time.Duration
	d                  Driver
	closed             atomic.Bool
	mu                 sync.Mutex
	subs               map[*Subscription]struct{}

	closeOnce sync.Once
	closeErr  error
}

func newBus(opts []Option) *Bus {
	b := &Bus{retryMin: 100 * time.Millisecond, retryMax: 5 * time.Second, now: time.Now, logger: slog.New(slog.DiscardHandler), subs: map[*Subscription]struct{}{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// New returns a Bus over a backend's Driver. WithRetention and WithClock
// configure the memory driver only; a backend takes its own.
func New(d Driver, opts ...Option) *Bus {
	b := newBus(opts)
	b.d = d
	return b
}

// NewMemory returns a complete in-process Bus.
func NewMemory(opts ...Option) *Bus {
	b := newBus(opts)
	b.d = newMemory(b.now, b.maxLen, b.maxAge)
	return b
}

// registry maps a scheme to what makes the Bus once the caller's options
// are known: Open's options apply to every backend alike.
var registry = urlopen.New[func([]Option) *Bus]("event")

func init() {
	registry.Register("mem", func(_ context.Context, u *url.URL) (func([]Option) *Bus, error) {
		if len(u.Query()) > 0 || u.Host != "" {
			return nil, fmt.Errorf("%w: mem:// takes no host or parameters", ErrInvalid)
		}
		return func(opts []Option) *Bus { return NewMemory(opts...) }, nil
	})
}

// Register makes Open understand scheme with a backend's Driver; the
// adapters call it from init (event/redisevent: redis, rediss,
// redis+cluster, rediss+cluster). It panics if the scheme is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Driver, error)) {
	registry.Register(scheme, func(ctx context.Context, u *url.URL) (func([]Option) *Bus, error) {
		d, err := open(ctx, u)
		if err != nil {
			return nil, err
		}
		return func(opts []Option) *Bus { return New(d, opts...) }, nil
	})
}

// Open opens a Bus by URL: mem://, or a scheme an imported adapter
// registered, with the options New takes (WithService, WithTracer, ...).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Bus, error) {
	mk, err := registry.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return mk(opts), nil
}

// Publish appends rec and returns its id. A record published while a
// handler runs inherits its RootID and ParentID from ctx.
func (b *Bus) Publish(ctx context.Context, rec Record) (string, error) {
	ids, err := b.publish(ctx, []Record{rec}, true)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// PublishBatch appends every record, in order, in one round trip per
// server where the backend allows (Redis: one pipeline, not a
// transaction: when it fails, some records may be stored and none of
// their ids is returned; publish again and dedupe by content if that
// matters).
func (b *Bus) PublishBatch(ctx context.Context, recs []Record) ([]string, error) {
	return b.publish(ctx, recs, false)
}

// publish is PublishBatch on recs, which it may change in place when
// owned (Publish's own slice); else it copies them only if one needs a
// field filled in.
func (b *Bus) publish(ctx context.Context, recs []Record, owned bool) ([]string, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.publishTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.publishTimeout)
		defer cancel()
	}
	parent, inHandler := FromContext(ctx)
	traced := b.tracer != nil || trace.SpanContextFromContext(ctx).IsValid() // once per batch, not per record
	out := recs
	for i := range recs {
		r := &out[i]
		if r.Type == "" || !utf8.ValidString(r.Type) {
			return nil, fmt.Errorf("%w: record %d: Type %q is empty or not UTF-8", ErrInvalid, i, r.Type)
		}
		fill := r.Origin == (Origin{}) && b.origin != (Origin{})
		if !fill && !inHandler && !traced {
			continue
		}
		if !owned { // never the caller's records
			out, owned = slices.Clone(recs), true
			r = &out[i]
		}
		if fill {
			r.Origin = b.origin
		}
		if inHandler {
			r.ParentID = parent.ID
			r.RootID = parent.RootID
		}
		if traced {
			if span := b.producerSpan(ctx, r); span != nil {
				defer span.End()
			}
		}
	}
	if !b.published.Load() {
		b.published.Store(true)
	}
	ids, err := b.d.Append(ctx, out)
	b.health.observe(err)
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// PublishJSON publishes v encoded as JSON under typ.
func PublishJSON[T any](ctx context.Context, b *Bus, typ string, v T) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b.Publish(ctx, Record{Type: typ, Data: data, Metadata: map[string]string{"content-type": "application/json"}})
}

// Decode unmarshals a record's JSON data.
func Decode[T any](rec Record) (T, error) {
	var v T
	if err := json.Unmarshal(rec.Data, &v); err != nil {
		return v, fmt.Errorf("%w: record %s: %w", ErrCorrupt, rec.ID, err)
	}
	return v, nil
}

// Start says where a new subscription begins.
type Start struct {
	kind int // 0 now, 1 beginning, 2 after id, 3 at time
	id   string
	t    time.Time
}

var (
	FromNow       = Start{}
	FromBeginning = Start{kind: 1}
)

// ID is the id an AfterID start begins after (for drivers).
func (s Start) ID() (string, bool) { return s.id, s.kind == 2 }

// Time is the time a FromTime start begins at (for drivers).
func (s Start) Time() (time.Time, bool) { return s.t, s.kind == 3 }

// AfterID starts after the record with this id.
func AfterID(id string) Start { return Start{kind: 2, id: id} }

// FromTime starts at the first record at or after t.
func FromTime(t time.Time) Start { return Start{kind: 3, t: t} }

// SubscribeOptions select records and delivery.
type SubscribeOptions struct {
	Types       []string      // types or path.Match patterns ("config.*"); empty = all
	Group       string        // "" = broadcast: this subscriber sees every record
	Start       Start         // for broadcast, or for a group created by this call
	MaxAttempts int           // after this many failures, dead-letter (default 5)
	Backoff     time.Duration // before the second attempt; doubles after each failure
	Concurrency int           // handlers running at once for this subscriber (default 1)
	// OnError, if set, is told of every failure the subscription survives:
	// a read, ack or release the backend refused (ErrUnavailable: the
	// subscription retries with WithRetry's backoff), or an entry in the
	// stream that is not a record (ErrCorrupt: skipped; a group moves it to
	// the dead-letter stream). The subscription never stops for either. It
	// runs on a worker; it must not block.
	OnError func(err error)
}

func (o SubscribeOptions) matches(typ string) bool {
	if len(o.Types) == 0 {
		return true
	}
	for _, p := range o.Types {
		if ok, _ := path.Match(p, typ); ok || p == typ {
			return true
		}
	}
	return false
}

// Subscription is a running subscriber; Stop ends it and waits.
type Subscription struct {
	cancel context.CancelFunc
	done   chan struct{}
	cur    Cursor
}

// Check reports the health of the subscription's latest reads from the
// backend (nil, or ErrUnavailable/ErrForbidden with the last failure),
// without a round trip.
func (s *Subscription) Check(ctx context.Context) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	return s.cur.Check(ctx)
}

// Stop ends the subscription and waits for its handler to return.
func (s *Subscription) Stop() { s.cancel(); <-s.done }

// Subscribe runs handler for matching records until ctx ends, Stop or Close.
func (b *Bus) Subscribe(ctx context.Context, h Handler, o SubscribeOptions) (*Subscription, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	for _, p := range o.Types {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%w: type pattern %q: %w", ErrInvalid, p, err)
		}
	}
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalid)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	cur, err := b.d.Cursor(ctx, o)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &Subscription{cancel: cancel, done: make(chan struct{}), cur: cur}
	if !b.track(s) {
		cancel()
		return nil, ErrClosed
	}
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			retry := backoff.Backoff{Min: b.retryMin, Max: b.retryMax}
			for {
				rec, err := cur.Next(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					b.report(ctx, o, err)
					if !errors.Is(err, ErrCorrupt) && !backoff.Sleep(ctx, retry.Next()) {
						return
					}
					continue // the subscription lives until ctx ends
				}
				retry.Reset()
				if b.deliver(ctx, h, rec, o) {
					err = cur.Ack(context.WithoutCancel(ctx), rec)
				} else {
					err = cur.Release(context.WithoutCancel(ctx), rec)
				}
				if err != nil {
					b.report(ctx, o, err) // left pending: redelivered after the visibility timeout
					if !backoff.Sleep(ctx, retry.Next()) {
						return
					}
				}
			}
		})
	}
	go func() {
		wg.Wait()
		_ = cur.Close()
		b.untrack(s)
		close(s.done)
	}()
	return s, nil
}

// report tells the logger and o.OnError of an error the subscription survives.
func (b *Bus) report(ctx context.Context, o SubscribeOptions, err error) {
	b.logger.LogAttrs(ctx, slog.LevelWarn, "event: subscription", slog.String("group", o.Group), slog.Any("error", err))
	if o.OnError != nil {
		o.OnError(err)
	}
}

// deliver runs h until it acknowledges rec or rec is dead-lettered (true),
// or ctx ends first (false: rec is still unacknowledged).
func (b *Bus) deliver(ctx context.Context, h Handler, rec Record, o SubscribeOptions) bool {
	hctx, span := b.consumerSpan(context.WithValue(ctx, ctxKey{}, rec), rec)
	var err error
	defer func() {
		if err != nil {
			span.SetError(err)
		}
		span.End()
	}()
	for attempt := 1; attempt <= o.MaxAttempts; attempt++ {
		if err = h(hctx, cloneRecord(rec)); err == nil {
			return true
		}
		if attempt < o.MaxAttempts && o.Backoff > 0 {
			t := time.NewTimer(o.Backoff << (attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return false
		}
	}
	if derr := b.d.DeadLetter(context.WithoutCancel(ctx), DeadLetter{Record: rec, Group: o.Group, Err: err.Error()}); derr != nil {
		b.logger.LogAttrs(ctx, slog.LevelError, "event: dead letter not stored", slog.String("id", rec.ID), slog.Any("error", derr))
		return false
	}
	b.logger.LogAttrs(ctx, slog.LevelWarn, "event: dead-lettered", slog.String("id", rec.ID),
		slog.String("type", rec.Type), slog.String("group", o.Group), slog.Int("attempts", o.MaxAttempts), slog.Any("error", err))
	return true
}

// DeadLetter is a record that failed MaxAttempts times.
type DeadLetter struct {
	Record Record
	Group  string
	Err    string
}

// DeadLetters returns the dead-letter stream.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	if b.closed.Load() {
		return nil, ErrClosed
	}
	return b.d.DeadLetters(ctx)
}

// Redrive publishes the dead letter again (a new id, same type and data) and removes it.
func (b *Bus) Redrive(ctx context.Context, id string) (string, error) {
	if b.closed.Load() {
		return "", ErrClosed
	}
	rec, ok, err := b.d.TakeDead(ctx, id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: no dead letter %q", ErrInvalid, id)
	}
	rec.ID = ""
	ids, err := b.PublishBatch(context.WithoutCancel(ctx), []Record{rec})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// Query selects records of the history.
type Query struct {
	Types    []string
	From, To time.Time // zero = unbounded; To is exclusive
	RootID   string
	AfterID  string // page token: the last id of the previous page
	Limit    int    // default 100
}

// Read returns records of the history in id order, and the next page token ("" at the end).
func (b *Bus) Read(ctx context.Context, q Query) ([]Record, string, error) {
	if b.closed.Load() {
		return nil, "", ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	return b.d.Read(ctx, q)
}

// Check reports the bus's health from its latest calls to the backend,
// without a round trip: the latest Publish, then each subscription's
// latest read. A Bus that has made no call yet asks the driver (a PING).
func (b *Bus) Check(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.health.check(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		if err := s.cur.Check(ctx); err != nil {
			return err
		}
	}
	if len(subs) == 0 && !b.published.Load() {
		err := b.d.Check(ctx)
		b.health.observe(err)
		return err
	}
	return nil
}

// As reaches the backend client through the driver; the memory bus has none.
func (b *Bus) As(i any) bool { return b.d.As(i) }

// Shutdown stops every subscription, waits for their handlers within ctx,
// then closes the driver.
func (b *Bus) Shutdown(ctx context.Context) error {
	b.closed.Store(true)
	if err := b.stopAll(ctx); err != nil {
		return err
	}
	b.closeOnce.Do(func() { b.closeErr = b.d.Close() })
	return b.closeErr
}

// track registers a running subscription; false once Shutdown began.
func (b *Bus) track(s *Subscription) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return false
	}
	b.subs[s] = struct{}{}
	return true
}

func (b *Bus) untrack(s *Subscription) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

func (b *Bus) stopAll(ctx context.Context) error {
	b.mu.Lock() // after closed is set: no track can succeed past this point
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.cancel()
	}
	for _, s := range subs {
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (b *Bus) Close() error { return lifecycle.Close(b.Shutdown) }

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneRecord(r Record) Record {
	r.Metadata = cloneMap(r.Metadata)
	r.Data = append([]byte(nil), r.Data...)
	return r
}

func formatID(ms int64, seq uint64) string {
	return strconv.FormatInt(ms, 10) + "-" + strconv.FormatUint(seq, 10)
}

func parseID(id string) (int64, uint64, error) {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			ms, err1 := strconv.ParseInt(id[:i], 10, 64)
			seq, err2 := strconv.ParseUint(id[i+1:], 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				return 0, 0, err
			}
			return ms, seq, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: id %q", ErrInvalid, id)
}
