package kv

import (
	"context"
	"errors"
	"log/slog"
	"path"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/oserr"
)

// New returns the portable Store in front of a backend's driver. Every
// constructor in this module returns one; a new backend needs only a Driver.
func New(d Driver, opts ...Option) Store {
	o := collect(opts)
	_, untracked := d.(closeSafe)
	s := &store{
		d: d, ns: o.namespace, system: systemOf(d), log: o.logger,
		track: !untracked, drained: make(chan struct{}, 1),
	}
	s.health.Now = o.now
	if len(o.hooks) > 0 {
		inv := Invoker(s.base)
		for i := len(o.hooks) - 1; i >= 0; i-- {
			inv = o.hooks[i](inv)
		}
		s.invoke = inv
	}
	return s
}

// closeSafe marks a driver that calls may keep using after its Close (the
// memory driver, whose Close releases nothing): the Store then skips
// counting calls in flight, a shared atomic that costs parallel readers
// more than the memory lookup itself.
type closeSafe interface{ closeSafe() }

// Pinger is an optional Driver method: one cheap round trip to the
// backend (Redis PING, memcached's version on every server). Check calls
// it when the Store made no call since the previous Check, so that an idle
// Store still reports a backend that went away.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Aser is an optional Driver method behind Store.As: it sets *target to
// the backend's client when target points to a type the driver has
// (rediskv: *redis.Client, *redis.ClusterClient, redis.UniversalClient;
// memcachekv: *memcache.Client).
type Aser interface {
	As(target any) bool
}

// Systemer is an optional Driver method naming the backend for traces and
// logs ("redis", "memcached"); without it the Store uses the driver's
// package name.
type Systemer interface {
	System() string
}

func systemOf(d Driver) string {
	if s, ok := d.(Systemer); ok {
		return s.System()
	}
	t := reflect.TypeOf(d)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return path.Base(t.PkgPath())
}

type store struct {
	d      Driver
	ns     string
	system string
	invoke Invoker // the hooks around base; nil without hooks
	log    *slog.Logger

	health    health.Tracker
	forbidden atomic.Bool // the latest failure was a refusal of credentials
	called    atomic.Bool // a driver call ended since the previous Check

	// inflight counts calls inside the driver, so that Shutdown can wait
	// for them: a driver never sees a call after its Close (a call racing
	// Close could otherwise park a connection in a pool already closed).
	track        bool
	inflight     atomic.Int64
	closed       atomic.Bool
	drained      chan struct{} // signalled when the last call leaves after Close
	shutdownOnce sync.Once
	shutdownErr  error
}

// enter admits a call unless the store is closed.
func (s *store) enter() bool {
	if !s.track {
		return !s.closed.Load()
	}
	s.inflight.Add(1)
	if s.closed.Load() {
		s.exit()
		return false
	}
	return true
}

func (s *store) exit() {
	if s.track && s.inflight.Add(-1) == 0 && s.closed.Load() {
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
}

// base performs a call for the hooks: the whole call, as without hooks.
func (s *store) base(ctx context.Context, c *Call) error {
	var err error
	switch c.Op {
	case "get":
		c.Item, err = s.get(ctx, c.Key)
	case "getmulti":
		c.Items, err = s.getMulti(ctx, c.Keys)
	case "set":
		err = s.doWrite(ctx, c.Op, c.Item, s.d.Set)
	case "add":
		err = s.doWrite(ctx, c.Op, c.Item, s.d.Add)
	case "cas":
		err = s.doWrite(ctx, c.Op, c.Item, s.d.CompareAndSwap)
	case "delete":
		err = s.delete(ctx, c.Key)
	}
	return err
}

func (s *store) Get(ctx context.Context, key string) (Item, error) {
	if s.invoke == nil {
		return s.get(ctx, key)
	}
	c := newCall("get", s.system, key)
	err := s.invoke(ctx, c)
	it := c.Item
	c.release()
	return it, err
}

func (s *store) get(ctx context.Context, key string) (Item, error) {
	if !s.enter() {
		return Item{}, &OpError{Op: "get", Key: key, Err: ErrClosed}
	}
	defer s.exit()
	full, err := s.key(key)
	if err != nil {
		return Item{}, &OpError{Op: "get", Key: key, Err: err}
	}
	it, err := s.d.Get(ctx, full)
	s.outcome(err)
	if err != nil {
		return Item{}, s.fail("get", key, err)
	}
	it.Key = key
	return it, nil
}

func (s *store) GetMulti(ctx context.Context, keys []string) (map[string]Item, error) {
	if s.invoke == nil {
		return s.getMulti(ctx, keys)
	}
	c := newCall("getmulti", s.system, "")
	c.Keys = keys
	err := s.invoke(ctx, c)
	m := c.Items
	c.release()
	return m, err
}

func (s *store) getMulti(ctx context.Context, keys []string) (map[string]Item, error) {
	if !s.enter() {
		return nil, &OpError{Op: "getmulti", Err: ErrClosed}
	}
	defer s.exit()
	full := keys
	if s.ns != "" {
		full = make([]string, len(keys))
	}
	for i, k := range keys {
		f, err := s.key(k)
		if err != nil {
			return nil, &OpError{Op: "getmulti", Key: k, Err: err}
		}
		if s.ns != "" {
			full[i] = f
		}
	}
	out := make(map[string]Item, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	err := s.d.GetMulti(ctx, full, func(i int, it Item) {
		it.Key = keys[i]
		out[it.Key] = it
	})
	s.outcome(err)
	if err != nil {
		// No one key is to blame: the error names the server or peer.
		return nil, s.fail("getmulti", "", err)
	}
	return out, nil
}

func (s *store) Set(ctx context.Context, item Item) error {
	return s.write(ctx, "set", item, s.d.Set)
}

func (s *store) Add(ctx context.Context, item Item) error {
	return s.write(ctx, "add", item, s.d.Add)
}

func (s *store) CompareAndSwap(ctx context.Context, item Item) error {
	return s.write(ctx, "cas", item, s.d.CompareAndSwap)
}

func (s *store) write(ctx context.Context, op string, item Item, do func(context.Context, Item) error) error {
	if s.invoke == nil {
		return s.doWrite(ctx, op, item, do)
	}
	c := newCall(op, s.system, item.Key)
	c.Item = item
	err := s.invoke(ctx, c)
	c.release()
	return err
}

func (s *store) doWrite(ctx context.Context, op string, item Item, do func(context.Context, Item) error) error {
	if !s.enter() {
		return &OpError{Op: op, Key: item.Key, Err: ErrClosed}
	}
	defer s.exit()
	key := item.Key
	full, err := s.key(key)
	switch {
	case err != nil:
	case item.TTL < 0 || item.TTL > MaxTTL:
		err = errInvalidTTL(item.TTL)
	case op == "cas" && item.Version == 0:
		err = errNoVersion
	}
	if err != nil {
		return &OpError{Op: op, Key: key, Err: err}
	}
	item.Key = full
	err = do(ctx, item)
	s.outcome(err)
	if err != nil {
		return s.fail(op, key, err)
	}
	return nil
}

func (s *store) Delete(ctx context.Context, key string) error {
	if s.invoke == nil {
		return s.delete(ctx, key)
	}
	c := newCall("delete", s.system, key)
	err := s.invoke(ctx, c)
	c.release()
	return err
}

func (s *store) delete(ctx context.Context, key string) error {
	if !s.enter() {
		return &OpError{Op: "delete", Key: key, Err: ErrClosed}
	}
	defer s.exit()
	full, err := s.key(key)
	if err != nil {
		return &OpError{Op: "delete", Key: key, Err: err}
	}
	err = s.d.Delete(ctx, full)
	s.outcome(err)
	if err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// outcome feeds a driver call's result to the health tracker: a backend
// that cannot be reached or refuses the credentials is a failure; any
// answer (a miss, a conflict, a value too large) is a success. A call the
// caller cancelled says nothing of the backend.
func (s *store) outcome(err error) {
	if !s.called.Load() {
		s.called.Store(true)
	}
	switch {
	case err == nil || err == ErrNotFound:
		s.success()
		return
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrForbidden):
	case errors.Is(err, context.Canceled), errors.Is(err, ErrClosed):
		return
	default:
		s.success()
		return
	}
	forbidden := errors.Is(err, ErrForbidden)
	if s.forbidden.Load() != forbidden {
		s.forbidden.Store(forbidden)
	}
	if s.health.Check(context.Background(), ErrUnavailable) == nil && s.log != nil {
		s.log.Warn("kv: backend failing", "system", s.system, "err", err)
	}
	s.health.Failure(err)
}

func (s *store) success() {
	if s.log != nil && s.health.Check(context.Background(), ErrUnavailable) != nil {
		s.log.Info("kv: backend answering again", "system", s.system)
	}
	s.health.Success()
}

// Check reports the backend's health from the Store's own calls: nil while
// the latest call got an answer, else an error wrapping ErrUnavailable (or
// ErrForbidden when the backend refused the credentials) with the latest
// failure and its age. When no call ended since the previous Check and the
// driver is a Pinger, it pings once, bounded by ctx. After Close it returns
// ErrClosed.
func (s *store) Check(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if p, ok := s.d.(Pinger); ok && !s.called.Swap(false) && ctx.Err() == nil && s.enter() {
		err := p.Ping(ctx)
		s.exit()
		if !errors.Is(err, context.Canceled) {
			s.outcome(err)
			s.called.Store(false) // the probe is not a caller's call
		}
	}
	sentinel := ErrUnavailable
	if s.forbidden.Load() {
		sentinel = ErrForbidden
	}
	return s.health.Check(ctx, sentinel)
}

// As reaches the backend's client: see Aser.
func (s *store) As(target any) bool {
	if a, ok := s.d.(Aser); ok {
		return a.As(target)
	}
	return false
}

// Shutdown refuses new calls, waits for the calls in flight to return
// (each is bounded by its own ctx) or for ctx to end, then closes the
// driver. It is idempotent: later calls return the first one's result.
func (s *store) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.closed.Store(true)
		var waitErr error
	wait:
		for s.inflight.Load() != 0 {
			select {
			case <-s.drained:
			case <-ctx.Done():
				waitErr = errShutdownDeadline
				if s.log != nil {
					s.log.Warn("kv: shutdown deadline passed with calls in flight", "system", s.system, "inflight", s.inflight.Load())
				}
				break wait
			}
		}
		s.shutdownErr = errors.Join(waitErr, s.d.Close())
	})
	return s.shutdownErr
}

var errShutdownDeadline = oserr.New(oserr.DeadlineExceeded, "kv: shutdown: calls still in flight when the deadline passed")

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (s *store) Close() error { return lifecycle.Close(s.Shutdown) }

// key validates the caller's key and returns it with the namespace applied.
func (s *store) key(key string) (string, error) {
	if key == "" {
		return "", ValidateKey(key) // the namespace alone is not a key
	}
	if s.ns != "" {
		key = s.ns + key
	}
	return key, ValidateKey(key)
}

// fail wraps a driver's error with the operation and key; a miss stays the
// bare ErrNotFound so that cache misses cost no allocation.
func (s *store) fail(op, key string, err error) error {
	if err == ErrNotFound {
		return err
	}
	return &OpError{Op: op, Key: key, Err: err}
}
