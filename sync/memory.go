package sync

import (
	"context"
	gosync "sync"
	"time"
)

// Memory is the in-process backend: complete and safe for concurrent use,
// for tests and for services that run as one process. Several Clients may
// share one Memory, as several processes share one Redis. Its clock is the
// one given to NewMemoryBackend, so that tests expire locks by moving a
// fake clock instead of sleeping.
type Memory struct {
	now    func() time.Time
	mu     gosync.Mutex
	locks  map[string]memLock
	tokens map[string]uint64 // the last token given per name, kept forever
	change chan struct{}     // closed and replaced on every change of holder
}

type memLock struct {
	owner   string
	value   []byte
	token   uint64
	expires time.Time
}

// NewMemoryBackend returns an empty Memory on the clock now (time.Now if nil).
func NewMemoryBackend(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, locks: map[string]memLock{}, tokens: map[string]uint64{}, change: make(chan struct{})}
}

// NewMemory returns a Client on a Memory of its own, on the WithClock clock.
func NewMemory(opts ...Option) *Client {
	o := defaults().with(opts)
	return New(NewMemoryBackend(o.now), opts...)
}

// As sets **Memory.
func (m *Memory) As(i any) bool {
	p, ok := i.(**Memory)
	if ok {
		*p = m
	}
	return ok
}

// held returns name's live lock; m.mu is held.
func (m *Memory) held(name string) (memLock, bool) {
	l, ok := m.locks[name]
	if ok && !m.now().Before(l.expires) {
		delete(m.locks, name)
		m.changed()
		return memLock{}, false
	}
	return l, ok
}

func (m *Memory) changed() {
	close(m.change)
	m.change = make(chan struct{})
}

func (m *Memory) Acquire(ctx context.Context, req Request) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.held(req.Name); ok {
		return Grant{}, ErrLocked
	}
	m.tokens[req.Name]++
	t := m.tokens[req.Name]
	m.locks[req.Name] = memLock{owner: req.Owner, value: append([]byte(nil), req.Value...), token: t, expires: m.now().Add(req.TTL)}
	m.changed()
	return Grant{Token: t, Owner: req.Owner}, nil
}

func (m *Memory) Renew(ctx context.Context, name string, g Grant, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.held(name)
	if !ok || l.owner != g.Owner {
		return ErrNotHeld
	}
	l.expires = m.now().Add(ttl)
	m.locks[name] = l
	return nil
}

func (m *Memory) Release(ctx context.Context, name string, g Grant) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.held(name); ok && l.owner == g.Owner {
		delete(m.locks, name)
		m.changed()
	}
	return nil
}

func (m *Memory) Holder(ctx context.Context, name string) (Holder, error) {
	if err := ctx.Err(); err != nil {
		return Holder{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.held(name)
	if !ok {
		return Holder{}, ErrNoLeader
	}
	return Holder{Value: append([]byte(nil), l.value...), Token: l.token}, nil
}

// WaitHolder waits for a change of holder. An expiry is seen when the
// clock has passed it and someone looks: WaitHolder looks every 10 ms.
func (m *Memory) WaitHolder(ctx context.Context, name string, after Holder, wait time.Duration) (Holder, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		m.mu.Lock()
		l, ok := m.held(name)
		change := m.change
		m.mu.Unlock()
		if !ok && after.Token != 0 {
			return Holder{}, ErrNoLeader
		}
		if ok && l.token != after.Token {
			return Holder{Value: append([]byte(nil), l.value...), Token: l.token}, nil
		}
		select {
		case <-change:
		case <-tick.C:
		case <-t.C:
			return after, nil
		case <-ctx.Done():
			return Holder{}, ctx.Err()
		}
	}
}

func (m *Memory) Ping(ctx context.Context) error { return ctx.Err() }

// Close does nothing: other Clients may share the Memory.
func (m *Memory) Close() error { return nil }
