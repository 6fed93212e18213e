package routergrpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/endpointsharding"
	"google.golang.org/grpc/balancer/pickfirst"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/router"
)

// Name is the balancer's name in gRPC's load-balancing config; NewBuilder's
// resolver selects it.
const Name = "goos_router"

func init() { balancer.Register(builderB{}) }

type builderB struct{}

func (builderB) Name() string { return Name }

func (builderB) Build(cc balancer.ClientConn, opts balancer.BuildOptions) balancer.Balancer {
	b := &routerBalancer{cc: cc}
	// One pick_first child per endpoint (node), grpc-go's Endpoint model:
	// the balancer never makes a SubConn itself, so it uses none of the
	// deprecated multi-address SubConn API.
	b.Balancer = endpointsharding.NewBalancer(interceptCC{ClientConn: cc, b: b}, opts,
		balancer.Get(pickfirst.Name).Build, endpointsharding.Options{})
	return b
}

// routerBalancer is endpointsharding over pick_first children, with the
// router choosing among the ready children. gRPC serialises its methods
// and the children's state updates, so it needs no lock.
type routerBalancer struct {
	balancer.Balancer // endpointsharding
	cc                balancer.ClientConn
	routing           *routing
}

// interceptCC catches endpointsharding's aggregated state to publish the
// router's picker over it.
type interceptCC struct {
	balancer.ClientConn
	b *routerBalancer
}

func (c interceptCC) UpdateState(st balancer.State) { c.b.updateState(st) }

func (b *routerBalancer) UpdateClientConnState(s balancer.ClientConnState) error {
	rt, _ := s.ResolverState.Attributes.Value(attrKey{}).(*routing)
	if rt == nil {
		return fmt.Errorf("routergrpc: balancer %s needs the goos:/// resolver of routergrpc.NewBuilder", Name)
	}
	b.routing = rt
	if len(s.ResolverState.Endpoints) == 0 {
		b.Balancer.ResolverError(errors.New("routergrpc: no node to connect to"))
		return balancer.ErrBadResolverState
	}
	return b.Balancer.UpdateClientConnState(balancer.ClientConnState{
		ResolverState: pickfirst.EnableHealthListener(s.ResolverState),
	})
}

// updateState publishes a picker over the children's states: the router's
// while any node is ready, else endpointsharding's own (connecting, or
// failing with the children's error).
func (b *routerBalancer) updateState(st balancer.State) {
	p := &picker{routing: b.routing, ready: map[string]balancer.Picker{}, failing: map[string]bool{}}
	for _, child := range endpointsharding.ChildStatesFromPicker(st.Picker) {
		for _, a := range child.Endpoint.Addresses {
			switch child.State.ConnectivityState {
			case connectivity.Ready:
				p.ready[a.Addr] = child.State.Picker
			case connectivity.TransientFailure, connectivity.Shutdown:
				p.failing[a.Addr] = true
			}
		}
	}
	if len(p.ready) == 0 || b.routing == nil {
		if st.ConnectivityState == connectivity.TransientFailure {
			st.Picker = &wrapErr{st.Picker}
		}
		b.cc.UpdateState(st)
		return
	}
	b.cc.UpdateState(balancer.State{ConnectivityState: connectivity.Ready, Picker: p})
}

// wrapErr says which balancer failed, keeping the children's error.
type wrapErr struct{ p balancer.Picker }

func (w *wrapErr) Pick(info balancer.PickInfo) (balancer.PickResult, error) {
	res, err := w.p.Pick(info)
	if err != nil && err != balancer.ErrNoSubConnAvailable {
		err = status.Errorf(codes.Unavailable, "routergrpc: no ready node: %v", status.Convert(err).Message())
	}
	return res, err
}

// picker picks with the router among the ready children (one per node,
// by address). It is immutable.
type picker struct {
	routing *routing
	ready   map[string]balancer.Picker
	failing map[string]bool
}

func (p *picker) Pick(info balancer.PickInfo) (balancer.PickResult, error) {
	ctx := info.Ctx
	if n, ok := ctx.Value(pinKey{}).(*router.Node); ok {
		// The interceptor picked (and reports) this attempt's node.
		if child := p.ready[n.Address]; child != nil {
			return child.Pick(info)
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
		child := p.ready[picked.Node.Address]
		if child == nil {
			if p.failing[picked.Node.Address] {
				// Unreachable (TransientFailure) counts against the node, so
				// that the router ejects it and P2C stops choosing it.
				picked.Done(errUnreachable, 0)
			} else {
				picked.Done(context.Canceled, 0) // still connecting: not its fault
			}
			continue
		}
		res, err := child.Pick(info)
		if err != nil {
			picked.Done(context.Canceled, 0) // the connection just went: not a result
			return res, err
		}
		start := time.Now()
		childDone := res.Done
		res.Done = func(di balancer.DoneInfo) {
			if childDone != nil {
				childDone(di)
			}
			picked.Done(nodeError(di.Err), time.Since(start))
		}
		return res, nil
	}
	// The router kept choosing nodes without a connection: rather than
	// make the call wait for a new picker, send it to any ready node.
	for _, child := range p.ready {
		return child.Pick(info)
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
