package routergrpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/base"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/router"
)

// Name is the balancer's name in gRPC's load-balancing config; NewBuilder's
// resolver selects it.
const Name = "goos_router"

func init() { balancer.Register(builderB{}) }

type builderB struct{}

func (builderB) Name() string { return Name }

func (builderB) Build(cc balancer.ClientConn, _ balancer.BuildOptions) balancer.Balancer {
	return &routerBalancer{cc: cc, subs: map[string]*subConn{}}
}

type subConn struct {
	sc    balancer.SubConn
	state connectivity.State
	err   error
}

// routerBalancer keeps one SubConn per node address and publishes a
// picker over the ready ones. gRPC serialises its methods and the SubConn
// state listeners, so it needs no lock.
type routerBalancer struct {
	cc      balancer.ClientConn
	routing *routing
	subs    map[string]*subConn
	lastErr error
}

func (b *routerBalancer) UpdateClientConnState(s balancer.ClientConnState) error {
	rt, _ := s.ResolverState.Attributes.Value(attrKey{}).(*routing)
	if rt == nil {
		return fmt.Errorf("routergrpc: balancer %s needs the goos:/// resolver of routergrpc.NewBuilder", Name)
	}
	b.routing = rt
	want := map[string]bool{}
	for _, ep := range s.ResolverState.Endpoints {
		for _, a := range ep.Addresses {
			want[a.Addr] = true
		}
	}
	for addr := range want {
		if b.subs[addr] != nil {
			continue
		}
		sub := &subConn{state: connectivity.Idle}
		sc, err := b.cc.NewSubConn([]resolver.Address{{Addr: addr}}, balancer.NewSubConnOptions{
			StateListener: func(st balancer.SubConnState) { b.updateSub(addr, sub, st) },
		})
		if err != nil {
			continue
		}
		sub.sc = sc
		b.subs[addr] = sub
		sc.Connect()
	}
	for addr, sub := range b.subs {
		if !want[addr] {
			sub.sc.Shutdown()
			delete(b.subs, addr)
		}
	}
	b.publish()
	if len(want) == 0 {
		return balancer.ErrBadResolverState
	}
	return nil
}

func (b *routerBalancer) updateSub(addr string, sub *subConn, st balancer.SubConnState) {
	if b.subs[addr] != sub {
		return // shut down
	}
	sub.state, sub.err = st.ConnectivityState, st.ConnectionError
	if st.ConnectionError != nil {
		b.lastErr = st.ConnectionError
	}
	if st.ConnectivityState == connectivity.Idle {
		sub.sc.Connect()
	}
	b.publish()
}

func (b *routerBalancer) ResolverError(err error) {
	b.lastErr = err
	if len(b.subs) == 0 {
		b.cc.UpdateState(balancer.State{ConnectivityState: connectivity.TransientFailure, Picker: base.NewErrPicker(status.Error(codes.Unavailable, err.Error()))})
	}
}

func (b *routerBalancer) UpdateSubConnState(balancer.SubConn, balancer.SubConnState) {}

func (b *routerBalancer) ExitIdle() {
	for _, sub := range b.subs {
		if sub.state == connectivity.Idle {
			sub.sc.Connect()
		}
	}
}

func (b *routerBalancer) Close() {
	for _, sub := range b.subs {
		sub.sc.Shutdown()
	}
	b.subs = map[string]*subConn{}
}

// publish sends a picker over the current SubConn states.
func (b *routerBalancer) publish() {
	p := &picker{routing: b.routing, ready: map[string]balancer.SubConn{}, failing: map[string]bool{}}
	connecting := false
	for addr, sub := range b.subs {
		switch sub.state {
		case connectivity.Ready:
			p.ready[addr] = sub.sc
		case connectivity.TransientFailure, connectivity.Shutdown:
			p.failing[addr] = true
		default:
			connecting = true
		}
	}
	switch {
	case len(p.ready) > 0:
		b.cc.UpdateState(balancer.State{ConnectivityState: connectivity.Ready, Picker: p})
	case connecting:
		b.cc.UpdateState(balancer.State{ConnectivityState: connectivity.Connecting, Picker: base.NewErrPicker(balancer.ErrNoSubConnAvailable)})
	default:
		err := b.lastErr
		if err == nil {
			err = errors.New("no node to connect to")
		}
		b.cc.UpdateState(balancer.State{ConnectivityState: connectivity.TransientFailure, Picker: base.NewErrPicker(status.Errorf(codes.Unavailable, "routergrpc: no ready node: %v", err))})
	}
}

// picker picks with the router among the ready SubConns. It is immutable.
type picker struct {
	routing *routing
	ready   map[string]balancer.SubConn
	failing map[string]bool
}

func (p *picker) Pick(info balancer.PickInfo) (balancer.PickResult, error) {
	ctx := info.Ctx
	if n, ok := ctx.Value(pinKey{}).(*router.Node); ok {
		// The interceptor picked (and reports) this attempt's node.
		if sc := p.ready[n.Address]; sc != nil {
			return balancer.PickResult{SubConn: sc}, nil
		}
		if p.failing[n.Address] {
			return balancer.PickResult{}, status.Errorf(codes.Unavailable, "routergrpc: node %s is not reachable", n.Address)
		}
		return balancer.PickResult{}, balancer.ErrNoSubConnAvailable
	}
	for try := 0; try < 3; try++ {
		picked, err := p.routing.r.Pick(ctx, p.routing.service, router.KeyFromContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return balancer.PickResult{}, status.FromContextError(ctx.Err()).Err()
			}
			return balancer.PickResult{}, status.Error(codes.Unavailable, err.Error())
		}
		sc := p.ready[picked.Node.Address]
		if sc == nil {
			if p.failing[picked.Node.Address] {
				// Unreachable (TransientFailure) counts against the node, so
				// that the router ejects it and P2C stops choosing it.
				picked.Done(errUnreachable, 0)
			} else {
				picked.Done(context.Canceled, 0) // still connecting: not its fault
			}
			continue
		}
		start := time.Now()
		return balancer.PickResult{SubConn: sc, Done: func(di balancer.DoneInfo) {
			picked.Done(nodeError(di.Err), time.Since(start))
		}}, nil
	}
	// The router kept choosing nodes without a connection: rather than
	// make the call wait for a new picker, send it to any ready node.
	for _, sc := range p.ready {
		return balancer.PickResult{SubConn: sc}, nil
	}
	return balancer.PickResult{}, balancer.ErrNoSubConnAvailable
}

var errUnreachable = status.Error(codes.Unavailable, "routergrpc: node not reachable")

// nodeError is err if it says the node failed, nil for an application
// error (the node answered), context.Canceled if the caller gave up.
func nodeError(err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.DeadlineExceeded, codes.ResourceExhausted, codes.DataLoss:
		return err
	case codes.Canceled:
		return context.Canceled
	}
	return nil
}
