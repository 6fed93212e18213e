package routergrpc

import (
	"context"
	"net"
	"strconv"
	"sync"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/serviceconfig"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

// Scheme is the target scheme of NewBuilder's resolver: goos:///service-name.
const Scheme = "goos"

type attrKey struct{}

// routing is what the resolver hands the balancer through the resolver
// state's attributes.
type routing struct {
	r       *router.Router
	service string
}

// NewBuilder returns the resolver for goos:///service-name targets over
// r's discovery, which also selects this package's balancer. Pass it to
// grpc.NewClient with grpc.WithResolvers (no global registration).
func NewBuilder(r *router.Router) resolver.Builder { return &builder{r: r} }

type builder struct{ r *router.Router }

func (b *builder) Scheme() string { return Scheme }

func (b *builder) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	service := target.Endpoint()
	if err := discovery.ValidateName(service); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	events, err := b.r.Resolver().Watch(ctx, service)
	if err != nil {
		cancel()
		return nil, err
	}
	res := &watchResolver{cancel: cancel}
	sc := cc.ParseServiceConfig(`{"loadBalancingConfig":[{"` + Name + `":{}}]}`)
	attrs := attributes.New(attrKey{}, &routing{r: b.r, service: service})
	res.wg.Add(1)
	go res.run(events, cc, sc, attrs)
	return res, nil
}

type watchResolver struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (w *watchResolver) run(events <-chan discovery.Event, cc resolver.ClientConn, sc *serviceconfig.ParseResult, attrs *attributes.Attributes) {
	defer w.wg.Done()
	synced := false
	for ev := range events {
		if ev.Type == discovery.EventError {
			if !synced {
				cc.ReportError(ev.Err)
			}
			continue // keep the last addresses while discovery is down
		}
		synced = true
		var eps []resolver.Endpoint
		for _, svc := range ev.Services {
			for _, n := range svc.Nodes {
				eps = append(eps, resolver.Endpoint{Addresses: []resolver.Address{{Addr: address(n)}}})
			}
		}
		cc.UpdateState(resolver.State{Endpoints: eps, ServiceConfig: sc, Attributes: attrs})
	}
}

// address is the node's dial address, as the router's Node.Address has it.
func address(n *discovery.Node) string {
	if n.Port == 0 {
		return n.Address
	}
	return net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
}

func (w *watchResolver) ResolveNow(resolver.ResolveNowOptions) {}

func (w *watchResolver) Close() {
	w.cancel()
	w.wg.Wait()
}
