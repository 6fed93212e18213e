// Package consuldiscovery is the Consul backend of discovery, on the
// official client github.com/hashicorp/consul/api.
//
// Nodes are registered as services of the local agent (the agent's
// anti-entropy then keeps the catalog in sync), each with a TTL check when
// registered WithTTL, which Register passes again as the heartbeat. Reads
// are health-filtered (only passing instances), and watches are blocking
// queries (index + wait) that the discovery package retries with backoff.
//
// A node's Version and Zone travel in the service metadata under the keys
// goos-version and goos-zone; its Metadata under its own keys. Services
// registered by other tools read back with an empty version.
package consuldiscovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/consulx"
)

const (
	metaVersion = "goos-version"
	metaZone    = "goos-zone"
)

// Option configures the Consul backend.
type Option func(*options)

type options struct {
	wait            time.Duration
	deregisterAfter time.Duration
	registryOpts    []discovery.Option
	ownTransport    *http.Transport // closed by Close: the client is ours
}

// WithWaitTime sets how long a watch's blocking query waits for a change
// before asking again (default 1 min; Consul caps it at 10 min).
func WithWaitTime(d time.Duration) Option { return func(o *options) { o.wait = d } }

// WithDeregisterCriticalAfter sets how long Consul keeps a node whose TTL
// check is failing before it deregisters it (default 1 min, Consul's
// minimum), so that crashed processes do not accumulate in the catalog.
func WithDeregisterCriticalAfter(d time.Duration) Option {
	return func(o *options) { o.deregisterAfter = d }
}

// WithRegistryOptions passes options to the portable Registry
// (discovery.WithLogger, WithRetry, WithHook, ...).
func WithRegistryOptions(opts ...discovery.Option) Option {
	return func(o *options) { o.registryOpts = append(o.registryOpts, opts...) }
}

func collect(opts []Option) options {
	o := options{wait: time.Minute, deregisterAfter: time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// New returns a Registry on the Consul agent client talks to. The registry
// does not own client: Close leaves it alone.
func New(client *api.Client, opts ...Option) discovery.Registry {
	o := collect(opts)
	return discovery.New(NewDriver(client, opts...), o.registryOpts...)
}

// Dial returns a Registry on a client it makes from cfg (nil: the
// defaults, which read CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN and the other
// CONSUL_* variables). Close releases the client's connections.
func Dial(cfg *api.Config, opts ...Option) (discovery.Registry, error) {
	d, err := dial(cfg, collect(opts))
	if err != nil {
		return nil, err
	}
	return discovery.New(d, collect(opts).registryOpts...), nil
}

func dial(cfg *api.Config, o options) (*driver, error) {
	if cfg == nil {
		cfg = api.DefaultConfig()
	} else {
		copied := *cfg
		cfg = &copied
	}
	owned := cfg.HttpClient == nil
	if owned && cfg.Transport == nil {
		cfg.Transport = api.DefaultConfig().Transport
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consuldiscovery: %w", err)
	}
	d := newDriver(client, o)
	if owned {
		d.o.ownTransport = cfg.Transport
	}
	return d, nil
}

// NewDriver returns the driver itself, for discovery.New. It does not own
// client.
func NewDriver(client *api.Client, opts ...Option) discovery.Driver {
	return newDriver(client, collect(opts))
}

func newDriver(client *api.Client, o options) *driver {
	return &driver{c: client, o: o, registered: map[string]*api.AgentServiceRegistration{}}
}

type driver struct {
	c *api.Client
	o options

	mu sync.Mutex
	// registered holds what this client last registered for each node ID,
	// so that a heartbeat that changes nothing is a single TTL update.
	registered map[string]*api.AgentServiceRegistration
}

func checkID(nodeID string) string { return "service:" + nodeID }

func (d *driver) registration(svc *discovery.Service, n *discovery.Node, ttl time.Duration) *api.AgentServiceRegistration {
	meta := make(map[string]string, len(n.Metadata)+2)
	maps.Copy(meta, n.Metadata)
	if svc.Version != "" {
		meta[metaVersion] = svc.Version
	}
	if n.Zone != "" {
		meta[metaZone] = n.Zone
	}
	reg := &api.AgentServiceRegistration{ID: n.ID, Name: svc.Name, Address: n.Address, Port: n.Port, Meta: meta}
	if ttl > 0 {
		reg.Check = &api.AgentServiceCheck{
			CheckID: checkID(n.ID),
			Name:    "go-os heartbeat",
			TTL:     roundUp(ttl).String(),
			// Passing from the start: the registration is the first heartbeat.
			Status:                         api.HealthPassing,
			DeregisterCriticalServiceAfter: d.o.deregisterAfter.String(),
		}
	}
	return reg
}

// roundUp rounds ttl up to Consul's resolution, the second.
func roundUp(ttl time.Duration) time.Duration {
	return (ttl + time.Second - 1).Truncate(time.Second)
}

func (d *driver) Register(ctx context.Context, svc *discovery.Service, opts discovery.RegisterOptions) error {
	for _, n := range svc.Nodes {
		if err := d.registerNode(ctx, d.registration(svc, n, opts.TTL)); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) registerNode(ctx context.Context, reg *api.AgentServiceRegistration) error {
	d.mu.Lock()
	last := d.registered[reg.ID]
	d.mu.Unlock()
	if reg.Check != nil && reflect.DeepEqual(last, reg) {
		err := d.c.Agent().UpdateTTLOpts(reg.Check.CheckID, "", api.HealthPassing, d.query(ctx))
		if err == nil {
			return nil
		}
		var status api.StatusError
		if !errors.As(err, &status) {
			return mapErr(ctx, err)
		}
		// The agent lost the check (it restarted): register again.
	}
	err := d.c.Agent().ServiceRegisterOpts(reg, api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx))
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		delete(d.registered, reg.ID)
		return mapErr(ctx, err)
	}
	d.registered[reg.ID] = reg
	return nil
}

func (d *driver) Deregister(ctx context.Context, svc *discovery.Service) error {
	for _, n := range svc.Nodes {
		d.mu.Lock()
		delete(d.registered, n.ID)
		d.mu.Unlock()
		err := d.c.Agent().ServiceDeregisterOpts(n.ID, d.query(ctx))
		var status api.StatusError
		if errors.As(err, &status) && status.Code == http.StatusNotFound {
			continue
		}
		if err != nil {
			return mapErr(ctx, err)
		}
	}
	return nil
}

func (d *driver) GetService(ctx context.Context, name string) ([]*discovery.Service, error) {
	entries, _, err := d.c.Health().Service(name, "", true, d.query(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return services(name, entries), nil
}

func (d *driver) ListServices(ctx context.Context) ([]string, error) {
	all, _, err := d.c.Catalog().Services(d.query(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	critical, _, err := d.c.Health().State(api.HealthCritical, d.query(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	// A service with a failing check may still have a live instance: ask.
	suspect := map[string]bool{}
	for _, c := range critical {
		if c.ServiceName != "" {
			suspect[c.ServiceName] = true
		} else {
			suspect[""] = true // a node check: every service may be hit
		}
	}
	names := make([]string, 0, len(all))
	for name := range all {
		if suspect[name] || suspect[""] {
			entries, _, err := d.c.Health().Service(name, "", true, d.query(ctx))
			if err != nil {
				return nil, mapErr(ctx, err)
			}
			if len(entries) == 0 {
				continue
			}
		}
		names = append(names, name)
	}
	return names, nil
}

func (d *driver) WatchService(ctx context.Context, name string, index uint64) ([]*discovery.Service, uint64, error) {
	// A healthy agent answers a blocking query within its wait plus up to
	// wait/16 of jitter. One that accepted the request and went silent (a
	// stopped process, a half-open connection) would otherwise hold the
	// watch forever: the cache would serve expired nodes as fresh.
	qctx, cancel := context.WithTimeout(ctx, d.o.wait+d.o.wait/16+2*time.Second)
	defer cancel()
	q := d.query(qctx)
	q.WaitIndex, q.WaitTime = index, d.o.wait
	entries, meta, err := d.c.Health().Service(name, "", true, q)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if qctx.Err() != nil {
			return nil, 0, discovery.Unavailable(fmt.Errorf("consul did not answer a blocking query within %v: %w", d.o.wait+d.o.wait/16+2*time.Second, err))
		}
		return nil, 0, mapErr(ctx, err)
	}
	next := meta.LastIndex
	if next == 0 {
		// Consul's advice: an index of 0 is never to be waited on.
		next = 1
	}
	return services(name, entries), next, nil
}

// As sets *target to the Consul client, for discovery's Registry.As:
//
//	var client *api.Client
//	if reg.As(&client) { ... }
func (d *driver) As(target any) bool {
	if p, ok := target.(**api.Client); ok {
		*p = d.c
		return true
	}
	return false
}

func (d *driver) query(ctx context.Context) *api.QueryOptions {
	return (&api.QueryOptions{}).WithContext(ctx)
}

func (d *driver) Close() error {
	if d.o.ownTransport != nil {
		d.o.ownTransport.CloseIdleConnections()
	}
	return nil
}

// services groups health entries by version into discovery's shape.
func services(name string, entries []*api.ServiceEntry) []*discovery.Service {
	byVersion := map[string]*discovery.Service{}
	var out []*discovery.Service
	for _, e := range entries {
		s := e.Service
		if s == nil {
			continue
		}
		version := s.Meta[metaVersion]
		svc := byVersion[version]
		if svc == nil {
			svc = &discovery.Service{Name: name, Version: version}
			byVersion[version] = svc
			out = append(out, svc)
		}
		n := &discovery.Node{ID: s.ID, Address: s.Address, Port: s.Port, Zone: s.Meta[metaZone]}
		if n.Address == "" && e.Node != nil {
			n.Address = e.Node.Address // Consul's rule: no service address means the node's
		}
		for k, v := range s.Meta {
			if k == metaVersion || k == metaZone {
				continue
			}
			if n.Metadata == nil {
				n.Metadata = make(map[string]string, len(s.Meta))
			}
			n.Metadata[k] = v
		}
		svc.Nodes = append(svc.Nodes, n)
	}
	return out
}

// mapErr maps a Consul client error onto discovery's sentinels, keeping it
// reachable with errors.As.
func mapErr(ctx context.Context, err error) error {
	switch {
	case consulx.BadRequest(err):
		return discovery.Wrap(discovery.ErrInvalidService, err)
	case consulx.Forbidden(err):
		return discovery.Wrap(discovery.ErrForbidden, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return discovery.Unavailable(err)
}
