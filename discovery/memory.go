package discovery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the complete in-process registry: TTL expiry, watches, and
// fault injection (Fail, Stall, Restart) so that caches and registrars can
// be tested against a misbehaving backend without a server. It is safe for
// concurrent use; its Registry methods behave like every other backend's
// (it runs the same conformance suite).
type Memory struct {
	Registry
	d *memDriver
}

// NewMemory returns an empty in-memory registry.
func NewMemory(opts ...Option) *Memory {
	d := newMemDriver()
	return &Memory{Registry: New(d, opts...), d: d}
}

// Fail makes every call fail with ErrUnavailable wrapping err, as if the
// backend were down, until Heal; watches report it and retry. A nil err
// stands for a refused connection.
func (m *Memory) Fail(err error) {
	if err == nil {
		err = errRefused
	}
	m.d.setFault(err, false)
}

// Stall makes every call block until its ctx is done, as if the backend
// hung, until Heal; watches stop seeing changes.
func (m *Memory) Stall() { m.d.setFault(nil, true) }

// Heal undoes Fail and Stall.
func (m *Memory) Heal() { m.d.setFault(nil, false) }

// Restart forgets every registration, as a fresh Consul dev agent would;
// watches see the nodes go away, and registrars put theirs back.
func (m *Memory) Restart() { m.d.restart() }

// Calls returns how many calls reached the backend (including the ones
// that failed or stalled), to measure how hard clients retry.
func (m *Memory) Calls() int64 { return m.d.calls.Load() }

var errRefused = errors.New("connection refused (fault injected by discovery.Memory.Fail)")

type memNode struct {
	service, version string
	node             *Node
	expires          time.Time // zero: never
}

func (n *memNode) live(now time.Time) bool { return n.expires.IsZero() || n.expires.After(now) }

type memDriver struct {
	calls atomic.Int64

	mu       sync.Mutex
	services map[string]map[string]*memNode // service → node ID → node
	owner    map[string]string              // node ID → service
	revs     map[string]uint64              // service → index of its last change
	counter  uint64                         // last index handed out
	changed  chan struct{}                  // closed and replaced on every change and fault
	fault    error
	stall    bool
	closed   bool
	timer    *time.Timer // fires at nextExpiry
	nextExp  time.Time
}

func newMemDriver() *memDriver {
	d := &memDriver{changed: make(chan struct{})}
	d.reset()
	return d
}

func (d *memDriver) reset() {
	d.services = make(map[string]map[string]*memNode)
	d.owner = make(map[string]string)
	d.revs = make(map[string]uint64)
	// Index 1 is the state of every service never changed: a watch with
	// index 0 gets it at once, and the first change moves past it.
	d.counter++
}

// broadcast wakes every blocked watch; d.mu is held.
func (d *memDriver) broadcast() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// touch records a change of service; d.mu is held.
func (d *memDriver) touch(service string) {
	d.counter++
	d.revs[service] = d.counter
}

func (d *memDriver) setFault(err error, stall bool) {
	d.mu.Lock()
	d.fault, d.stall = err, stall
	d.broadcast()
	d.mu.Unlock()
}

func (d *memDriver) restart() {
	d.mu.Lock()
	for name := range d.services {
		d.touch(name)
	}
	// Like a fresh agent, indexes start low again.
	d.counter = 0
	d.reset()
	d.broadcast()
	d.mu.Unlock()
}

// enter counts the call and applies the injected fault: it returns with
// d.mu held and nil, or unlocked with the error.
func (d *memDriver) enter(ctx context.Context) error {
	d.calls.Add(1)
	for {
		if err := ctx.Err(); err != nil {
			return Unavailable(err)
		}
		d.mu.Lock()
		switch {
		case d.fault != nil:
			err := d.fault
			d.mu.Unlock()
			return Unavailable(err)
		case !d.stall:
			return nil
		}
		wake := d.changed
		d.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
	}
}

func (d *memDriver) Register(ctx context.Context, svc *Service, opts RegisterOptions) error {
	if err := d.enter(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	var expires time.Time
	if opts.TTL > 0 {
		expires = time.Now().Add(opts.TTL)
	}
	nodes := d.services[svc.Name]
	if nodes == nil {
		nodes = make(map[string]*memNode)
		d.services[svc.Name] = nodes
	}
	changed := false
	for _, n := range svc.Nodes {
		if prev, ok := d.owner[n.ID]; ok && prev != svc.Name {
			// An ID is unique in the registry: it moves to this service.
			delete(d.services[prev], n.ID)
			d.touch(prev)
			changed = true
		}
		old := nodes[n.ID]
		if old == nil || old.version != svc.Version || !old.node.Equal(n) || !old.live(time.Now()) {
			nodes[n.ID] = &memNode{service: svc.Name, version: svc.Version, node: n.Clone(), expires: expires}
			changed = true
		} else {
			old.expires = expires // a heartbeat: no change to report
		}
		d.owner[n.ID] = svc.Name
	}
	if changed {
		d.touch(svc.Name)
		d.broadcast()
	}
	if !expires.IsZero() {
		d.scheduleLocked(expires)
	}
	return nil
}

func (d *memDriver) Deregister(ctx context.Context, svc *Service) error {
	if err := d.enter(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	nodes := d.services[svc.Name]
	changed := false
	for _, n := range svc.Nodes {
		if _, ok := nodes[n.ID]; ok {
			delete(nodes, n.ID)
			delete(d.owner, n.ID)
			changed = true
		}
	}
	if changed {
		d.touch(svc.Name)
		d.broadcast()
	}
	return nil
}

func (d *memDriver) GetService(ctx context.Context, name string) ([]*Service, error) {
	if err := d.enter(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	return d.snapshotLocked(name, time.Now()), nil
}

// snapshotLocked returns fresh Services (sharing the immutable stored
// nodes) for the live nodes of name.
func (d *memDriver) snapshotLocked(name string, now time.Time) []*Service {
	byVersion := map[string]*Service{}
	var out []*Service
	for _, n := range d.services[name] {
		if !n.live(now) {
			continue
		}
		s := byVersion[n.version]
		if s == nil {
			s = &Service{Name: name, Version: n.version}
			byVersion[n.version] = s
			out = append(out, s)
		}
		s.Nodes = append(s.Nodes, n.node)
	}
	return out
}

func (d *memDriver) ListServices(ctx context.Context) ([]string, error) {
	if err := d.enter(ctx); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	now := time.Now()
	var names []string
	for name, nodes := range d.services {
		for _, n := range nodes {
			if n.live(now) {
				names = append(names, name)
				break
			}
		}
	}
	return names, nil
}

func (d *memDriver) WatchService(ctx context.Context, name string, index uint64) ([]*Service, uint64, error) {
	for {
		if err := d.enter(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			return nil, 0, err
		}
		rev := max(d.revs[name], 1)
		if rev != index {
			svcs := d.snapshotLocked(name, time.Now())
			d.mu.Unlock()
			return svcs, rev, nil
		}
		wake := d.changed
		d.mu.Unlock()
		select {
		case <-wake:
			d.calls.Add(-1) // waking up is not a new call
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

func (d *memDriver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
	}
	return nil
}

// scheduleLocked makes reap run at t unless it already runs earlier.
func (d *memDriver) scheduleLocked(t time.Time) {
	if d.closed || (!d.nextExp.IsZero() && !t.Before(d.nextExp)) {
		return
	}
	d.nextExp = t
	wait := time.Until(t)
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.reap)
	} else {
		d.timer.Reset(wait)
	}
}

// reap removes expired nodes, so that watches see them go, and schedules
// itself for the next expiry.
func (d *memDriver) reap() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	now := time.Now()
	var next time.Time
	changed := false
	for name, nodes := range d.services {
		for id, n := range nodes {
			switch {
			case n.expires.IsZero():
			case !n.live(now):
				delete(nodes, id)
				delete(d.owner, id)
				d.touch(name)
				changed = true
			case next.IsZero() || n.expires.Before(next):
				next = n.expires
			}
		}
	}
	if changed {
		d.broadcast()
	}
	d.nextExp = time.Time{}
	if !next.IsZero() {
		d.scheduleLocked(next)
	}
}
