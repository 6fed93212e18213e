// Package ringkv is a kv backend with no server to run: the instances of a
// service pool their memory into one replicated store. Each key has N
// owners (default 2) on a consistent-hash ring of the instances; every
// call on a key is decided by its primary owner, which copies each write
// to the other owners before acknowledging it.
//
//	ring, err := ringkv.New("http://10.0.0.1:8080/_kv", nil,
//		ringkv.WithDiscovery(registry, "billing"), // or peers instead of nil, and SetPeers
//		ringkv.WithMaxBytes(256<<20))
//	defer ring.Close()                  // hands this instance's keys off
//	mux.Handle("/_kv/", ring.Handler()) // serve the keys this instance owns
//	store := ring.Store()               // a kv.Store, like any other
//
// # Membership
//
// With WithDiscovery the ring is the instances registered under a service
// name, followed through the discovery watch; without it, the peers given
// to New and SetPeers. Every instance builds the same ring from the same
// members. When the members change, every instance hands the keys it holds
// to the owners that are new for them (a join, a replica that replaces a
// dead instance); an instance that joins forwards the calls on the keys it
// now owns to their previous owner until every other member has handed its
// keys over (Settle waits for that; an instance restarted empty at an
// address the ring kept is handed its keys the same way); Close hands this
// instance's keys to their next owners before it stops serving. A
// discovery answer with no instance at all keeps the members known.
//
// # Security
//
// Peers authenticate each other with a shared secret, sent with every
// HTTP call and with the switch of each connection the per-key calls
// use (see Peer protocol), and checked in constant time:
//
//	ring, err := ringkv.New(self, peers, ringkv.WithSecret(os.Getenv("RING_SECRET")))
//
// or with mutual TLS: serve the handler with a tls.Config that requires
// and verifies client certificates, and pass WithHTTPClient a client with
// the instance's certificate (https:// peer URLs). Serve the handler on
// an internal port either way.
//
// # Consistency
//
// While the members do not change and every owner answers, each key is
// linearizable: Get, Set, Add, CompareAndSwap and Delete are decided one
// at a time by its primary owner (a porcupine check in the tests). A
// write is acknowledged once W owners hold it (WithWriteQuorum; default
// every owner that can be reached), so an acknowledged write survives the
// loss of any N-1 of its owners. A primary that cannot be reached is
// replaced by the next owner for reads and writes; when it answers again
// (a partition that healed, without it leaving the ring) it may serve its
// stale copy until the repair of the writes it missed reaches it (retried
// with backoff from 20 ms to 1 s). With N=1 the keys of an instance that
// is down or leaving are unavailable until the ring drops it.
//
// While members change, instances may briefly disagree on a key's
// primary. Copies carry versions from a hybrid logical clock, the highest
// wins, and deletes leave tombstones (WithTombstoneTTL), so an older copy
// does not undo a newer write or a delete: no acknowledged write is lost
// (the tests join, leave and kill instances under load and read every
// key back). But two writes racing through different primaries during
// the change are ordered by their versions, not decided by one owner:
// an Add or a CompareAndSwap may both succeed then. Versions compare
// across instances as far as their clocks agree.
//
// # Trade-offs
//
// The data lives in memory only: losing all N owners of a key at once
// loses it, and WithMaxBytes evicts the least recently used. Keep data
// that must survive a restart of the service in Redis.
//
// # Peer protocol
//
// Peers call each other at the handler. The calls on one key (get, set,
// add, cas, delete) go over connections the handler switches to RESP,
// Redis's protocol (an HTTP Upgrade at {url}/conn, with the secret; then
// one command per call, written and read by the calling goroutine, a
// pool of connections per peer), which costs about half of a POST per
// call on loopback. A peer that does not switch (a proxy in between) is
// called over HTTP. Bulk transfers (replication, handoffs, GetMulti) are
// POSTs of a compact binary encoding. With WithH2C or WithHTTPClient
// every call goes through that HTTP client. Per-call deadlines come
// from the caller's ctx, bounded by 2 s.
//
// # Errors
//
// A key whose owners cannot be reached is kv.ErrUnavailable; the other
// keys are still served. A write acknowledged by fewer owners than
// WithWriteQuorum asks is kv.ErrUnavailable (it may still be stored).
package ringkv

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/hashring"
	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/oserr"
)

// The ring's own errors; calls on keys return kv's.
var (
	// ErrBadPeer: a peer is not an http(s) URL.
	ErrBadPeer = oserr.New(oserr.Invalid, "ringkv: bad peer")
	// ErrBadOption: an option is out of range.
	ErrBadOption = oserr.New(oserr.Invalid, "ringkv: bad option")
)

// Ring is one instance's membership in the ring. It is safe for
// concurrent use. Close it: it owns goroutines (handoffs, repairs, the
// discovery watch).
type Ring struct {
	self   string
	o      options
	local  *local
	client *http.Client
	bulk   *http.Client // the client's transport, without its per-call timeout
	// repairBelow: a primary read repairs when a random uint64 is below it.
	repairBelow uint64
	owned       bool // the client was made here
	log         *slog.Logger

	// viewMu orders a primary's local writes before a change of view, so
	// that the handoff after the change sees every write decided before it.
	viewMu sync.RWMutex
	view   atomic.Pointer[view]

	// handedOff is the view the worker last handed keys off for.
	handedOff atomic.Pointer[view]
	// syncing: this instance joined a ring and waits for its keys; prev
	// is the ring without it, whose owners decide its keys meanwhile.
	syncMu   sync.Mutex
	syncWait map[string]bool // peers that have not confirmed the handoff
	syncPrev *view
	syncing  atomic.Bool

	discoHealth health.Tracker // the discovery watch
	healthMu    sync.Mutex
	health      map[string]*health.Tracker // per peer, from this instance's calls
	kick        chan struct{}
	repairs     repairSet
	moved       atomic.Int64
	settled     chan struct{} // closed and replaced whenever the worker goes idle
	setMu       sync.Mutex

	discovered sync.Once
	firstView  chan struct{} // closed at the first discovery event

	// upgrade: per-key calls go over connections switched to RESP
	// (conn.go); connMu guards the pools and the served connections.
	upgrade     bool
	connMu      sync.Mutex
	connsClosed bool
	peerConns   atomic.Pointer[map[string]*peerConn]
	served      map[net.Conn]*http.Server // the server the connection came through
	hooked      map[*http.Server]bool     // told to close them at its Shutdown
	servedWG    sync.WaitGroup

	closing      atomic.Bool
	ctx          context.Context
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	shutdownOnce sync.Once
	shutdownErr  error
}

// view is an immutable snapshot of the members: a change swaps it whole,
// so a call never sees half of one.
type view struct {
	ring  *hashring.Ring
	peers []string
	self  int // index of the instance in peers, -1 when it is not a member
	n     int
}

// pref appends the indexes of key's owners to dst, primary first.
func (v *view) pref(key string, dst []int) []int { return v.prefAt(keyHash(key), dst) }

// prefAt is pref for the key's ring position h (keyHash(key)).
func (v *view) prefAt(h uint32, dst []int) []int { return v.ring.LocateNHash(h, v.n, dst) }

func (v *view) has(peer string) bool {
	_, ok := slices.BinarySearch(v.peers, peer)
	return ok
}

// keyHash places a key on the ring: FNV-1a with a final mix, a fraction
// of MD5's cost on the hot path and as even for keys that differ in one
// byte.
func keyHash(key string) uint32 {
	x := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		x ^= uint64(key[i])
		x *= 1099511628211
	}
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return uint32(x)
}

// New makes the ring membership of the instance whose handler is at self
// (a base URL, as the peers call it), among peers. self need not be in
// peers: an instance outside the ring only calls it. With WithDiscovery,
// peers may be nil: the members come from the watch.
func New(self string, peers []string, opts ...Option) (*Ring, error) {
	o := options{now: time.Now, maxValue: 16 << 20, replicas: 2, points: 1024, tombTTL: 10 * time.Minute, readRepair: 0.05}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.replicas < 1:
		return nil, fmt.Errorf("%w: WithReplicas(%d): want at least 1", ErrBadOption, o.replicas)
	case o.writeQuorum < 0 || o.writeQuorum > o.replicas:
		return nil, fmt.Errorf("%w: WithWriteQuorum(%d): want 0 (every owner reached) to N=%d", ErrBadOption, o.writeQuorum, o.replicas)
	case o.points < 1:
		return nil, fmt.Errorf("%w: WithVirtualNodes(%d)", ErrBadOption, o.points)
	case o.registry == nil && len(peers) == 0:
		return nil, fmt.Errorf("%w: no peers and no WithDiscovery", ErrBadPeer)
	}
	if err := checkURL(self); err != nil && o.registry != nil {
		return nil, err
	}
	r := &Ring{self: self, o: o, client: o.client, log: o.logger, kick: make(chan struct{}, 1), settled: make(chan struct{}), firstView: make(chan struct{})}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.discoHealth.Now = o.now
	r.health = map[string]*health.Tracker{}
	r.served = map[net.Conn]*http.Server{}
	r.hooked = map[*http.Server]bool{}
	if r.client == nil {
		tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
		if o.h2c {
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetUnencryptedHTTP2(true)
		}
		r.client = &http.Client{Timeout: callTimeout, Transport: tr}
		r.owned = true
		r.upgrade = !o.h2c
	}
	if o.replicas > 1 && o.readRepair > 0 {
		r.repairBelow = uint64(min(o.readRepair, 1) * (1 << 63) * 2)
		if o.readRepair >= 1 {
			r.repairBelow = math.MaxUint64
		}
	}
	r.bulk = &http.Client{Transport: r.client.Transport, CheckRedirect: r.client.CheckRedirect, Jar: r.client.Jar}
	r.local = newLocal(o.now, o.maxBytes, o.tombTTL)
	if len(peers) > 0 {
		v, err := r.makeView(peers)
		if err != nil {
			return nil, err
		}
		r.view.Store(v)
		r.handedOff.Store(v)
		r.startSync(v)
	} else {
		v := &view{ring: hashring.New(), self: -1, n: o.replicas}
		r.view.Store(v)
		r.handedOff.Store(v)
	}
	if o.registry == nil || len(peers) > 0 {
		r.discovered.Do(func() { close(r.firstView) })
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.work()
	if o.registry != nil {
		r.wg.Add(1)
		go r.watch()
	}
	return r, nil
}

func checkURL(p string) error {
	u, err := url.Parse(p)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is not an http(s) URL", ErrBadPeer, p)
	}
	return nil
}

func (r *Ring) makeView(peers []string) (*view, error) {
	for _, p := range peers {
		if err := checkURL(p); err != nil {
			return nil, err
		}
	}
	peers = slices.Clone(peers)
	slices.Sort(peers) // every instance builds the same ring whatever the order
	peers = slices.Compact(peers)
	v := &view{ring: hashring.NewPoints(r.o.points, peers...), peers: peers, self: -1, n: r.o.replicas}
	if i, ok := slices.BinarySearch(peers, r.self); ok {
		v.self = i
	}
	return v, nil
}

// SetPeers replaces the members (base URLs). The keys whose owners change
// are handed to their new owners in the background (Settle waits for it).
func (r *Ring) SetPeers(peers ...string) error {
	if len(peers) == 0 {
		return fmt.Errorf("%w: no peers", ErrBadPeer)
	}
	v, err := r.makeView(peers)
	if err != nil {
		return err
	}
	r.setView(v)
	return nil
}

func (r *Ring) setView(v *view) {
	r.setMu.Lock()
	defer r.setMu.Unlock()
	old := r.view.Load()
	if slices.Equal(old.peers, v.peers) {
		return
	}
	// The join's state first: from the moment the view has this
	// instance, the keys it owns are forwarded until handed over.
	if old.self < 0 && v.self >= 0 {
		r.startSync(v) // this instance joined: its keys are elsewhere
	} else {
		r.updateSync(v)
	}
	r.viewMu.Lock()
	r.view.Store(v)
	r.viewMu.Unlock()
	r.healthMu.Lock()
	for p := range r.health {
		if !v.has(p) {
			delete(r.health, p) // gone: its failures say nothing of the ring now
		}
	}
	r.healthMu.Unlock()
	r.dropConns(v)
	r.log.Info("ringkv: members changed", "self", r.self, "members", len(v.peers))
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Peers returns the current members.
func (r *Ring) Peers() []string { return slices.Clone(r.view.Load().peers) }

// Store returns a kv.Store over the ring. Closing it does not close the
// Ring.
func (r *Ring) Store(opts ...kv.Option) kv.Store { return kv.New(&driver{r: r}, opts...) }

// Stats is what one instance holds and has done.
type Stats struct {
	Keys      int   // live keys held (as primary or replica)
	Bytes     int64 // bytes held, counted as WithMaxBytes counts them
	Evictions int64 // items evicted by WithMaxBytes
	HandedOff int64 // records sent to new owners on membership changes
	// UnderReplicated is the number of keys written with fewer than N
	// copies, waiting for an owner to come back.
	UnderReplicated int
	Syncing         bool // joined and still waiting for its keys
}

// Stats returns this instance's figures.
func (r *Ring) Stats() Stats {
	keys, bytes := r.local.usage()
	return Stats{
		Keys: keys, Bytes: bytes, Evictions: r.local.evictions.Load(), HandedOff: r.moved.Load(),
		UnderReplicated: r.repairs.len(), Syncing: r.syncing.Load(),
	}
}

var errUnderReplicated = oserr.New(oserr.Unavailable, "ringkv: keys under-replicated")

// peerHealth is the tracker of this instance's calls to peer.
func (r *Ring) peerHealth(peer string) *health.Tracker {
	r.healthMu.Lock()
	defer r.healthMu.Unlock()
	t := r.health[peer]
	if t == nil {
		t = &health.Tracker{Now: r.o.now}
		r.health[peer] = t
	}
	return t
}

// Check reports the ring's health from memory, without a round trip: nil
// while the latest call to every member got an answer, the discovery
// watch is up and no key waits for a missing copy; else an error wrapping
// kv.ErrUnavailable that names the unreachable peer (with its latest
// failure and age) or counts the under-replicated keys. kv.ErrClosed
// after Close.
func (r *Ring) Check(ctx context.Context) error {
	if r.closing.Load() {
		return kv.ErrClosed
	}
	if err := r.discoHealth.Check(ctx, kv.ErrUnavailable); err != nil {
		return fmt.Errorf("ringkv: discovery watch: %w", err)
	}
	for _, p := range r.view.Load().peers {
		r.healthMu.Lock()
		t := r.health[p]
		r.healthMu.Unlock()
		if t == nil {
			continue
		}
		if err := t.Check(ctx, kv.ErrUnavailable); err != nil {
			return fmt.Errorf("ringkv: peer %s: %w", p, err)
		}
	}
	if n := r.repairs.len(); n > 0 {
		return fmt.Errorf("%w: %w: %d keys have fewer than %d copies", kv.ErrUnavailable, errUnderReplicated, n, r.o.replicas)
	}
	return nil
}

// Settle waits until this instance has handed off the keys of the latest
// membership change and, if it joined, every other member has handed it
// its keys. A readiness probe can wait on it.
func (r *Ring) Settle(ctx context.Context) error {
	select {
	case <-r.firstView:
	case <-ctx.Done():
		return ctx.Err()
	case <-r.ctx.Done():
		return kv.ErrClosed
	}
	for {
		r.setMu.Lock()
		ch := r.settled
		r.setMu.Unlock()
		if r.handedOff.Load() == r.view.Load() && !r.syncing.Load() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-r.ctx.Done():
			return kv.ErrClosed
		}
	}
}

// signalSettled wakes Settle's waiters to look again.
func (r *Ring) signalSettled() {
	r.setMu.Lock()
	close(r.settled)
	r.settled = make(chan struct{})
	r.setMu.Unlock()
}

// Shutdown is a graceful leave: the instance stops deciding calls (its
// peers turn to the next owners), hands every key it holds to the owners
// the ring has without it, within ctx, then stops its goroutines. Stop
// serving its handler and deregister it after. Idempotent.
func (r *Ring) Shutdown(ctx context.Context) error {
	r.shutdownOnce.Do(func() {
		r.closing.Store(true)
		r.cancel()
		r.wg.Wait()
		r.shutdownErr = r.leave(ctx)
		r.closeConns()
		if r.owned {
			r.client.CloseIdleConnections()
		}
	})
	return r.shutdownErr
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (r *Ring) Close() error { return lifecycle.Close(r.Shutdown) }
