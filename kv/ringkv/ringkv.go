// Package ringkv is a kv backend with no server to run: the instances of a
// service pool their memory into one store. Each instance keeps the keys
// it owns on a ketama ring of the peers and asks the owner for the rest,
// over HTTP, like groupcache.
//
//	ring, err := ringkv.New("http://10.0.0.1:8080/_kv", []string{
//		"http://10.0.0.1:8080/_kv", "http://10.0.0.2:8080/_kv", "http://10.0.0.3:8080/_kv",
//	})
//	mux.Handle("/_kv/", ring.Handler()) // serve the keys this instance owns
//	store := ring.Store()               // a kv.Store, like any other
//	ring.SetPeers(urls...)              // when discovery reports a change
//
// # Trade-offs
//
// The data lives in the instances' memory, once: an instance that stops
// takes its keys with it, and a change of peers moves about 1/N of the keys
// to owners that do not have them (they read as missing until written
// again; an instance drops the keys it no longer owns, and refuses to
// serve them, so that no stale copy comes back). That suits caches,
// sessions that can be rebuilt and rate-limit windows; keep data that must
// survive in Redis. Peers talk plain HTTP
// with no authentication: serve the handler on an internal port, or pass
// an http.Client with mutual TLS (WithHTTPClient).
//
// # Errors
//
// A peer that cannot be reached, or answers 5xx, is kv.ErrUnavailable for
// the keys it owns; the others are still served.
package ringkv

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/hashring"
	"github.com/microos/go-os/kv"
)

// Option configures a Ring.
type Option func(*Ring)

// WithHTTPClient sets the client that calls peers (default: one with a
// 2 s timeout and 64 idle connections per peer).
func WithHTTPClient(c *http.Client) Option { return func(r *Ring) { r.client = c } }

// WithClock sets the clock of the local memory (for TTL tests).
func WithClock(now func() time.Time) Option { return func(r *Ring) { r.now = now } }

// WithMaxValueSize bounds the values the handler accepts (default 16 MiB),
// so that a peer cannot make an instance buffer without limit.
func WithMaxValueSize(n int64) Option { return func(r *Ring) { r.maxValue = n } }

// Ring is one instance's membership in the ring. It is safe for concurrent use.
type Ring struct {
	self     string
	local    kv.Driver
	client   *http.Client
	now      func() time.Time
	maxValue int64
	view     atomic.Pointer[view]
	owned    bool // the client was made here
}

// view is an immutable snapshot of the peers: SetPeers swaps it whole, so
// a call never sees half a change.
type view struct {
	ring  *hashring.Ring
	peers []string
}

// New makes the ring membership of the instance whose handler is at self
// (a base URL, as the peers call it), among peers. self need not be in
// peers: an instance outside the ring only calls it.
func New(self string, peers []string, opts ...Option) (*Ring, error) {
	r := &Ring{self: self, now: time.Now, maxValue: 16 << 20}
	for _, o := range opts {
		o(r)
	}
	if r.client == nil {
		r.client = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
		}}
		r.owned = true
	}
	r.local = kv.NewMemoryDriver(kv.WithClock(r.now))
	if err := r.SetPeers(peers...); err != nil {
		return nil, err
	}
	return r, nil
}

// SetPeers replaces the set of peers (base URLs). Keys whose owner changes
// read as missing until written again.
func (r *Ring) SetPeers(peers ...string) error {
	if len(peers) == 0 {
		return errors.New("ringkv: no peers")
	}
	for _, p := range peers {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("ringkv: peer %q is not an http(s) URL", p)
		}
	}
	peers = slices.Clone(peers)
	slices.Sort(peers) // every instance builds the same ring whatever the order
	peers = slices.Compact(peers)
	r.view.Store(&view{ring: hashring.New(peers...), peers: peers})
	// Drop what this instance no longer owns: were it to own a key again
	// later, its copy would be stale (changed or deleted meanwhile).
	if p, ok := r.local.(kv.Pruner); ok {
		p.Prune(func(key string) bool { return !r.owns(key) })
	}
	return nil
}

// Peers returns the current peers.
func (r *Ring) Peers() []string { return slices.Clone(r.view.Load().peers) }

// Store returns a kv.Store over the ring. Closing it releases the ring's
// idle connections; the local data stays until the Ring is dropped.
func (r *Ring) Store(opts ...kv.Option) kv.Store { return kv.New(&driver{r: r}, opts...) }

// owns reports whether this instance owns key in its view of the ring.
func (r *Ring) owns(key string) bool { return r.owner(key) == "" }

// owner returns the peer that owns key, or "" when it is this instance.
func (r *Ring) owner(key string) string {
	v := r.view.Load()
	p := v.peers[v.ring.Locate(key)]
	if p == r.self {
		return ""
	}
	return p
}
