package discovery

import (
	"context"
	"strconv"
	"time"
)

// Service is one version of a service and the nodes that run it.
//
// Values returned by a Registry or a Cache are shared, read-only snapshots:
// the caller must not modify them (copy with Clone first). That is what lets
// a cached lookup cost no allocation.
type Service struct {
	// Name identifies the service: 1 to 256 characters among letters,
	// digits, '-', '_' and '.'.
	Name string
	// Version is free-form ("1.4.2", "canary"); empty is a version too.
	// A registry returns one Service per version it holds.
	Version string
	// Nodes are the instances, sorted by ID on a read.
	Nodes []*Node
}

// Node is one instance of a service.
type Node struct {
	// ID identifies the node in the whole registry, not only within its
	// service (Consul's rule): registering an ID again replaces the earlier
	// registration, whatever its service. 1 to 128 characters, no space,
	// '/' or control character. The usual choice is name + "-" + a UUID.
	ID string
	// Address is the host name or IP address callers dial; not empty.
	Address string
	// Port is the port callers dial, 0 to 65535 (0: none, the address says it all).
	Port int
	// Metadata is free-form: at most MaxMetadata keys of 1 to 128
	// characters among letters, digits, '-' and '_' (not starting with
	// "goos-" or "consul-", which backends reserve), values of at most 512
	// bytes. Consul's limits, applied on every backend.
	Metadata map[string]string
	// Zone is the failure domain (availability zone, rack), for routers
	// that prefer nearby nodes; empty when unknown.
	Zone string
}

// MaxMetadata is the number of metadata keys a node may have.
const MaxMetadata = 62

// Registry is where services register their nodes and find each other's.
//
// Every method may do I/O: it honours ctx (a cancelled or expired ctx makes
// it return promptly with ctx's error wrapped) and is safe for concurrent
// use. Errors wrap one of the sentinels of this package (ErrNotFound,
// ErrInvalidService, ErrUnavailable, ErrForbidden, ErrClosed), so callers
// test them with errors.Is whatever the backend. After Close every method
// returns ErrClosed.
//
// Registries are made by New from a Driver; every constructor in this module
// (NewMemory, Open, consuldiscovery.New) returns one. A Cache is a Registry
// too, whose reads come from memory.
type Registry interface {
	// Register adds or refreshes svc's nodes under svc.Name and
	// svc.Version. With WithTTL a node that is not registered again within
	// the TTL expires: reads and watches stop returning it. Registering a
	// node again is the heartbeat: it is cheap, refreshes the TTL, applies
	// any change to the node, and puts the node back if the registry lost
	// it (an agent restart). A Registrar does it for you.
	Register(ctx context.Context, svc *Service, opts ...RegisterOption) error

	// Deregister removes svc's nodes (by Node.ID) from svc.Name. Removing a
	// node that is not registered is not an error.
	Deregister(ctx context.Context, svc *Service) error

	// GetService returns the live nodes of the service, one Service per
	// version, sorted by version, each with its nodes sorted by ID; expired
	// and failing nodes are never returned. ErrNotFound (bare) when the
	// service has no live node. The result is read-only.
	GetService(ctx context.Context, name string) ([]*Service, error)

	// ListServices returns the names of the services that have at least
	// one live node, sorted.
	ListServices(ctx context.Context) ([]string, error)

	// Watch follows the service named name: it returns at once, and the
	// channel receives an EventSync with the current state first, then one
	// event per change. The watch retries with capped exponential backoff
	// and jitter when the backend fails, sending an EventError for each
	// failure and an EventSync when it is back. The channel is closed when
	// ctx is done (or the registry is closed); the caller must keep
	// receiving until then, or cancel ctx.
	Watch(ctx context.Context, name string) (<-chan Event, error)

	// Check reports the backend's health as the registry last saw it, from
	// memory (no round trip): nil, or an error wrapping ErrUnavailable
	// (or ErrForbidden) with the latest failure and its age, or ErrClosed.
	// It never blocks past ctx.
	Check(ctx context.Context) error

	// Shutdown ends the registry's watches within ctx and releases its
	// resources (and the backend client, when the registry created it).
	// It does not deregister anything: a Registrar does that. Every method
	// returns ErrClosed after it. It is idempotent.
	Shutdown(ctx context.Context) error

	// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s).
	Close() error

	// As sets target to the backend's client if target is a pointer to
	// its type (consuldiscovery: **api.Client), gocloud.dev's escape
	// hatch; it reports whether it did.
	As(target any) bool
}

// EventType says what an Event reports.
type EventType int

const (
	// EventSync carries the whole state of the service: it is the first
	// event of every watch, and it follows the recovery from an error (after
	// the changes missed meanwhile, sent as Add/Update/Remove events).
	EventSync EventType = iota + 1
	// EventAdd: Node joined the service (Version says which version).
	EventAdd
	// EventUpdate: Node changed (address, port, metadata, zone or version).
	EventUpdate
	// EventRemove: Node left, deregistered or expired.
	EventRemove
	// EventError: the backend failed (Err says how); the watch keeps
	// retrying, and Services is the last state known.
	EventError
)

func (t EventType) String() string {
	switch t {
	case EventSync:
		return "sync"
	case EventAdd:
		return "add"
	case EventUpdate:
		return "update"
	case EventRemove:
		return "remove"
	case EventError:
		return "error"
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	// Service is the name of the service watched.
	Service string
	// Version and Node are the node's version and the node added, updated or
	// removed (for a removal, as it was last seen); empty for Sync and Error.
	Version string
	Node    *Node
	// Services is the state of the service after the event (when several
	// changes arrive together, after all of them), as GetService would
	// return it; nil when the service has no live node. Read-only.
	Services []*Service
	// Err is the backend's failure, for EventError.
	Err error
	// Time is when the watch saw the event.
	Time time.Time
}

// RegisterOption configures one Register call.
type RegisterOption func(*RegisterOptions)

// RegisterOptions are the settings of a Register call, for drivers.
type RegisterOptions struct {
	// TTL is how long the nodes live without being registered again; 0:
	// until deregistered. Backends round it up to their resolution
	// (Consul: 1 s).
	TTL time.Duration
}

// WithTTL makes the nodes expire unless registered again within ttl.
func WithTTL(ttl time.Duration) RegisterOption {
	return func(o *RegisterOptions) { o.TTL = ttl }
}

// Nodes returns the nodes of every version in services, in order: the
// flat list a load balancer picks from. It allocates; a router that picks
// often keeps the result until the next watch event.
func Nodes(services []*Service) []*Node {
	n := 0
	for _, s := range services {
		n += len(s.Nodes)
	}
	out := make([]*Node, 0, n)
	for _, s := range services {
		out = append(out, s.Nodes...)
	}
	return out
}

// Clone returns a deep copy of s that the caller may modify.
func (s *Service) Clone() *Service {
	if s == nil {
		return nil
	}
	c := &Service{Name: s.Name, Version: s.Version, Nodes: make([]*Node, len(s.Nodes))}
	for i, n := range s.Nodes {
		c.Nodes[i] = n.Clone()
	}
	return c
}

// Clone returns a deep copy of n that the caller may modify.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := *n
	if n.Metadata != nil {
		c.Metadata = make(map[string]string, len(n.Metadata))
		for k, v := range n.Metadata {
			c.Metadata[k] = v
		}
	}
	return &c
}

// Equal reports whether n and o describe the same node identically.
func (n *Node) Equal(o *Node) bool {
	if n == nil || o == nil {
		return n == o
	}
	if n.ID != o.ID || n.Address != o.Address || n.Port != o.Port || n.Zone != o.Zone || len(n.Metadata) != len(o.Metadata) {
		return false
	}
	for k, v := range n.Metadata {
		if w, ok := o.Metadata[k]; !ok || w != v {
			return false
		}
	}
	return true
}
