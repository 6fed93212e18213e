// Package discoverygrpc lets gRPC clients dial services by name: a
// resolver.Builder that turns the target "discovery:///billing" into the
// live nodes of billing, kept current by a watch on a discovery.Registry.
//
//	conn, err := grpc.NewClient("discovery:///billing",
//		grpc.WithResolvers(discoverygrpc.NewBuilder(reg)),
//		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//
// Each resolver.Endpoint (one per node) carries its node in its
// attributes: Node(endpoint) returns it, so that a balancer can prefer a
// zone or a version. Load balancing is the router
// package's job (router/routergrpc); this is the name resolution underneath.
package discoverygrpc

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/resolver"

	"github.com/microos/go-os/discovery"
)

// Scheme is the target scheme NewBuilder resolves by default.
const Scheme = "discovery"

// Option configures the builder.
type Option func(*Builder)

// WithScheme sets the target scheme (default "discovery").
func WithScheme(s string) Option { return func(b *Builder) { b.scheme = s } }

// WithVersion resolves only the nodes of this version of the service.
func WithVersion(v string) Option { return func(b *Builder) { b.version, b.byVersion = v, true } }

// Builder is a resolver.Builder over a discovery.Registry.
type Builder struct {
	r         discovery.Registry
	scheme    string
	version   string
	byVersion bool
}

// NewBuilder returns a builder whose resolvers watch r. Pass it to
// grpc.WithResolvers, or resolver.Register it once at start-up.
func NewBuilder(r discovery.Registry, opts ...Option) *Builder {
	b := &Builder{r: r, scheme: Scheme}
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Scheme implements resolver.Builder.
func (b *Builder) Scheme() string { return b.scheme }

// Build implements resolver.Builder: the service name is the target's
// endpoint ("discovery:///billing" or "discovery://authority/billing").
func (b *Builder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	name := strings.TrimPrefix(target.Endpoint(), "/")
	ctx, cancel := context.WithCancel(context.Background())
	events, err := b.r.Watch(ctx, name)
	if err != nil {
		cancel()
		return nil, err
	}
	r := &resolverImpl{cancel: cancel}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		b.follow(events, cc)
	}()
	return r, nil
}

// follow turns the watch's states into resolver states until it ends.
func (b *Builder) follow(events <-chan discovery.Event, cc resolver.ClientConn) {
	known := false
	for ev := range events {
		if ev.Type == discovery.EventError {
			if !known {
				cc.ReportError(ev.Err)
			}
			continue // gRPC keeps the last addresses while the registry fails
		}
		known = true
		_ = cc.UpdateState(b.state(ev.Services))
	}
}

// state is the resolver state of services: one Endpoint per node, with
// the node in the Endpoint's attributes (grpc-go's Endpoint API; the
// per-address BalancerAttributes are deprecated), and the same addresses,
// without attributes, for balancers that still read Addresses.
func (b *Builder) state(services []*discovery.Service) resolver.State {
	var st resolver.State
	for _, s := range services {
		if b.byVersion && s.Version != b.version {
			continue
		}
		for _, n := range s.Nodes {
			addr := n.Address
			if n.Port != 0 {
				addr = net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
			}
			a := resolver.Address{Addr: addr}
			st.Addresses = append(st.Addresses, a)
			st.Endpoints = append(st.Endpoints, resolver.Endpoint{
				Addresses:  []resolver.Address{a},
				Attributes: attributes.New(nodeKey{}, nodeAttr{n, s.Version}),
			})
		}
	}
	return st
}

type nodeKey struct{}

// nodeAttr wraps the node so that attributes compare it by identity and
// content (gRPC compares attributes to detect changes).
type nodeAttr struct {
	node    *discovery.Node
	version string
}

func (a nodeAttr) Equal(o any) bool {
	b, ok := o.(nodeAttr)
	return ok && a.version == b.version && a.node.Equal(b.node)
}

// Node returns the node behind an endpoint this package resolved, and its
// version; nil if ep did not come from here.
func Node(ep resolver.Endpoint) (node *discovery.Node, version string) {
	a, ok := ep.Attributes.Value(nodeKey{}).(nodeAttr)
	if !ok {
		return nil, ""
	}
	return a.node, a.version
}

type resolverImpl struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// ResolveNow implements resolver.Resolver: the watch already pushes every
// change, so there is nothing to do.
func (r *resolverImpl) ResolveNow(resolver.ResolveNowOptions) {}

// Close implements resolver.Resolver: it ends the watch and waits for it.
func (r *resolverImpl) Close() {
	r.once.Do(func() {
		r.cancel()
		r.wg.Wait()
	})
}
