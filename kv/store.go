package kv

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// New returns the portable Store in front of a backend's driver. Every
// constructor in this module returns one; a new backend needs only a Driver.
func New(d Driver, opts ...Option) Store {
	o := collect(opts)
	_, untracked := d.(closeSafe)
	return &store{d: d, ns: o.namespace, observers: o.observers, track: !untracked, drained: make(chan struct{}, 1)}
}

// closeSafe marks a driver that calls may keep using after its Close (the
// memory driver, whose Close releases nothing): the Store then skips
// counting calls in flight, a shared atomic that costs parallel readers
// more than the memory lookup itself.
type closeSafe interface{ closeSafe() }

type store struct {
	d         Driver
	ns        string
	observers []Observer

	// inflight counts calls inside the driver, so that Close can wait for
	// them: a driver never sees a call after its Close (a call racing
	// Close could otherwise park a connection in a pool already closed).
	track     bool
	inflight  atomic.Int64
	closed    atomic.Bool
	drained   chan struct{} // signalled when the last call leaves after Close
	closeOnce sync.Once
	closeErr  error
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

func (s *store) Get(ctx context.Context, key string) (Item, error) {
	start := s.start()
	it, err := s.get(ctx, key)
	s.observe(ctx, "get", 1, start, err)
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
	if err != nil {
		return Item{}, s.fail("get", key, err)
	}
	it.Key = key
	return it, nil
}

func (s *store) GetMulti(ctx context.Context, keys []string) (map[string]Item, error) {
	start := s.start()
	m, err := s.getMulti(ctx, keys)
	s.observe(ctx, "getmulti", len(keys), start, err)
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
	start := s.start()
	err := s.doWrite(ctx, op, item, do)
	s.observe(ctx, op, 1, start, err)
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
	if err := do(ctx, item); err != nil {
		return s.fail(op, key, err)
	}
	return nil
}

func (s *store) Delete(ctx context.Context, key string) error {
	start := s.start()
	err := s.delete(ctx, key)
	s.observe(ctx, "delete", 1, start, err)
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
	if err := s.d.Delete(ctx, full); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// Close refuses new calls, waits for the calls in flight to return (each
// is bounded by its ctx), then closes the driver.
func (s *store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		for s.inflight.Load() != 0 {
			<-s.drained
		}
		s.closeErr = s.d.Close()
	})
	return s.closeErr
}

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

func (s *store) start() time.Time {
	if len(s.observers) == 0 {
		return time.Time{}
	}
	return time.Now()
}

func (s *store) observe(ctx context.Context, op string, keys int, start time.Time, err error) {
	if len(s.observers) == 0 {
		return
	}
	took := time.Since(start)
	for _, obs := range s.observers {
		obs(ctx, op, keys, took, err)
	}
}
