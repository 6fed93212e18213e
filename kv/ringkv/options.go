package ringkv

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/microos/go-os/discovery"
)

// Option configures a Ring.
type Option func(*options)

type options struct {
	client      *http.Client
	h2c         bool
	now         func() time.Time
	maxValue    int64
	replicas    int
	writeQuorum int
	points      int
	maxBytes    int64
	tombTTL     time.Duration
	readRepair  float64
	logger      *slog.Logger
	secret      string
	registry    discovery.Registry
	service     string
	peerURL     func(*discovery.Node) string
}

// WithHTTPClient sets the client that calls peers (default: one with a
// 2 s timeout and 64 idle connections per peer). Pass one with mutual TLS
// to authenticate peers by certificate. With it, every call goes through
// c: the per-key calls do not switch connections to RESP.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithH2C makes the default client call peers over HTTP/2 without TLS
// (h2c, prior knowledge): one connection per peer carries every call.
// Every instance's server must accept it:
//
//	srv.Protocols = new(http.Protocols)
//	srv.Protocols.SetHTTP1(true)
//	srv.Protocols.SetUnencryptedHTTP2(true)
//
// The per-key calls then go over HTTP/2 too, not over connections
// switched to RESP. It is ignored with WithHTTPClient.
func WithH2C() Option { return func(o *options) { o.h2c = true } }

// WithClock sets the clock of the local memory (for TTL tests) and of
// the versions.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets where the ring logs membership changes and handoff
// failures (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithMaxValueSize bounds the bodies the handler accepts (default 16 MiB),
// so that a peer cannot make an instance buffer without limit.
func WithMaxValueSize(n int64) Option { return func(o *options) { o.maxValue = n } }

// WithReplicas sets N, how many instances hold each key (default 2): the
// primary owner and the next N-1 distinct instances on the ring.
func WithReplicas(n int) Option { return func(o *options) { o.replicas = n } }

// WithWriteQuorum sets W, how many owners (the primary included) must
// store a write before it is acknowledged. The default, 0, is every owner
// that can be reached: a write succeeds with fewer than N copies while an
// owner is down, and the missing copies are made when it is back or when
// the ring drops it.
func WithWriteQuorum(w int) Option { return func(o *options) { o.writeQuorum = w } }

// WithVirtualNodes sets the points each instance has on the ring (default
// 1024; with 5 instances the fullest holds under 5% more than the mean).
func WithVirtualNodes(n int) Option { return func(o *options) { o.points = n } }

// WithMaxBytes bounds this instance's memory for items (keys, values and
// about 100 bytes of bookkeeping each): past it, the least recently used
// items are evicted (Stats().Evictions counts them). The bound is split
// over 16 shards, so an item must fit in a sixteenth of it. Default 0:
// unbounded. An evicted item is gone from this instance's copy only; it
// is lost once every owner has evicted it.
func WithMaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

// WithTombstoneTTL sets how long a deleted key's tombstone is kept
// (default 10 minutes): while it is, an older copy of the key coming back
// from an instance that was away cannot undo the delete.
func WithTombstoneTTL(d time.Duration) Option { return func(o *options) { o.tombTTL = d } }

// WithReadRepair sets the fraction of primary reads after which the
// replicas of the key are compared with the primary and repaired (default
// 0.05). Reads served by a replica (the primary down) always repair.
func WithReadRepair(fraction float64) Option { return func(o *options) { o.readRepair = fraction } }

// WithSecret makes the instances authenticate each other: every peer call
// carries the secret, and the handler refuses calls without it (401). Use
// the same secret on every instance, and TLS (WithHTTPClient) when the
// network between them is not trusted, since the secret travels with
// every call.
func WithSecret(secret string) Option { return func(o *options) { o.secret = secret } }

// WithDiscovery makes the ring's members the instances of service in reg:
// the ring follows reg.Watch, so instances that register join and those
// that leave or expire are dropped. Each instance registers itself (a
// discovery.Registrar) with its handler's URL in the node metadata under
// MetadataURL, or at the node's address and port with the path of the
// ring's own URL. SetPeers still works, until the next watch event.
func WithDiscovery(reg discovery.Registry, service string) Option {
	return func(o *options) { o.registry, o.service = reg, service }
}

// WithPeerURL sets how a discovered node's handler URL is found (default:
// its MetadataURL metadata, or http://address:port plus the path of the
// ring's own URL).
func WithPeerURL(f func(*discovery.Node) string) Option { return func(o *options) { o.peerURL = f } }

// MetadataURL is the discovery metadata key holding an instance's handler URL.
const MetadataURL = "ringkv-url"
