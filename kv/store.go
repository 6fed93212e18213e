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
	return &store{d: d, ns: o.namespace, observers: o.observers}
}

type store struct {
	d         Driver
	ns        string
	observers []Observer
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func (s *store) Get(ctx context.Context, key string) (Item, error) {
	start := s.start()
	it, err := s.get(ctx, key)
	s.observe(ctx, "get", 1, start, err)
	return it, err
}

func (s *store) get(ctx context.Context, key string) (Item, error) {
	full, err := s.check(key)
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
	full := keys
	if s.ns != "" {
		full = make([]string, len(keys))
	}
	for i, k := range keys {
		f, err := s.check(k)
		if err != nil {
			return nil, &OpError{Op: "getmulti", Key: k, Err: err}
		}
		if s.ns != "" {
			full[i] = f
		}
	}
	out := make(map[string]Item, len(keys))
	if len(keys) == 0 {
		if s.closed.Load() {
			return nil, &OpError{Op: "getmulti", Err: ErrClosed}
		}
		return out, nil
	}
	err := s.d.GetMulti(ctx, full, func(i int, it Item) {
		it.Key = keys[i]
		out[it.Key] = it
	})
	if err != nil {
		return nil, s.fail("getmulti", keys[0], err)
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
	err := s.checkItem(op, &item)
	if err == nil {
		err = do(ctx, item)
	}
	if err != nil {
		err = s.fail(op, item.Key, err)
	}
	s.observe(ctx, op, 1, start, err)
	return err
}

// checkItem validates item and applies the namespace to its key in place.
func (s *store) checkItem(op string, item *Item) error {
	full, err := s.check(item.Key)
	if err == nil && item.TTL < 0 {
		err = errInvalidTTL(item.TTL)
	}
	if err == nil && op == "cas" && item.Version == 0 {
		err = errNoVersion
	}
	if err != nil {
		return &OpError{Op: op, Key: item.Key, Err: err}
	}
	item.Key = full
	return nil
}

func (s *store) Delete(ctx context.Context, key string) error {
	start := s.start()
	full, err := s.check(key)
	if err != nil {
		err = &OpError{Op: "delete", Key: key, Err: err}
	} else if err = s.d.Delete(ctx, full); err != nil {
		err = s.fail("delete", key, err)
	}
	s.observe(ctx, "delete", 1, start, err)
	return err
}

func (s *store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = s.d.Close()
	})
	return s.closeErr
}

// check validates key and returns it with the namespace applied; after
// Close it returns ErrClosed.
func (s *store) check(key string) (string, error) {
	if s.closed.Load() {
		return "", ErrClosed
	}
	if s.ns != "" {
		key = s.ns + key
	}
	return key, ValidateKey(key)
}

// fail wraps a driver's error with the operation and key; a miss stays the
// bare ErrNotFound so that cache misses cost no allocation. A call that
// raced with Close reports ErrClosed.
func (s *store) fail(op, key string, err error) error {
	if err == ErrNotFound {
		return err
	}
	if s.closed.Load() {
		err = Wrap(ErrClosed, err)
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
