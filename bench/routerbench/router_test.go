// Package routerbench compares the router's hot paths with the peers the
// issue names: go-kit's sd/lb pickers, grpc-go's round_robin picker,
// sony/gobreaker (against outlier ejection, the router's breaker; the
// adaptive throttle is an extra row under its own name) and
// golang.org/x/time/rate, doing the same work.
package routerbench

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/go-kit/kit/sd/lb"
	"github.com/sony/gobreaker"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/balancer"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

const nodes = 100

func ourPicker(s router.Strategy) router.Picker {
	eps := make([]*router.Endpoint, nodes)
	for i := range eps {
		eps[i] = router.NewEndpoint(router.Node{Service: "svc", ID: "n" + strconv.Itoa(i), Address: "10.0.0." + strconv.Itoa(i) + ":80"})
	}
	return s.Build(eps)
}

func goKitEndpoints() []endpoint.Endpoint {
	eps := make([]endpoint.Endpoint, nodes)
	for i := range eps {
		eps[i] = func(context.Context, any) (any, error) { return nil, nil }
	}
	return eps
}

func serial(pick func() bool) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !pick() {
				b.Fatal("no pick")
			}
		}
	}
}

func parallel(pick func() bool) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !pick() {
					b.Error("no pick")
					return
				}
			}
		})
	}
}

func TestComparePick(t *testing.T) {
	rr := ourPicker(router.RoundRobin())
	p2c := ourPicker(router.P2C())
	ourRR := func() bool { return rr.Pick("") != nil }
	ourP2C := func() bool { return p2c.Pick("") != nil }

	kitRR := lb.NewRoundRobin(sd.FixedEndpointer(goKitEndpoints()))
	kitRRPick := func() bool { e, err := kitRR.Endpoint(); return err == nil && e != nil }
	// go-kit's lb.Random shares one math/rand.Rand between goroutines (not
	// race-free), so it is compared serially only.
	kitRand := lb.NewRandom(sd.FixedEndpointer(goKitEndpoints()), 1)
	kitRandPick := func() bool { e, err := kitRand.Endpoint(); return err == nil && e != nil }

	grpcRR := grpcRoundRobinPicker(t, nodes)
	grpcPick := func() bool {
		res, err := grpcRR.Pick(balancer.PickInfo{FullMethodName: "/svc/Method", Ctx: context.Background()})
		return err == nil && res.SubConn != nil
	}

	compare.Run(t,
		compare.Case{Name: "pick round_robin 100 vs go-kit lb.RoundRobin", Ours: serial(ourRR), Peer: serial(kitRRPick)},
		compare.Case{Name: "pick round_robin 100 vs go-kit (parallel)", Ours: parallel(ourRR), Peer: parallel(kitRRPick)},
		compare.Case{Name: "pick round_robin 100 vs grpc round_robin", Ours: serial(ourRR), Peer: serial(grpcPick)},
		compare.Case{Name: "pick round_robin 100 vs grpc (parallel)", Ours: parallel(ourRR), Peer: parallel(grpcPick)},
		compare.Case{Name: "pick p2c 100 vs go-kit lb.Random", Ours: serial(ourP2C), Peer: serial(kitRandPick)},
		compare.Case{Name: "pick p2c 100 vs go-kit lb.RoundRobin (par.)", Ours: parallel(ourP2C), Peer: parallel(kitRRPick)},
		compare.Case{Name: "pick p2c 100 vs grpc round_robin (parallel)", Ours: parallel(ourP2C), Peer: parallel(grpcPick)},
	)
}

// The router's breaker is outlier ejection: every request's Pick checks
// that its node is not ejected and its Done feeds the node's failure
// counters, as a closed gobreaker's Allow and success report do. Same work
// on both sides: one service, one node, a success per request, the
// adaptive throttle off so that only the ejection path runs.
func TestCompareBreaker(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	if err := reg.Register(ctx, &discovery.Service{Name: "svc", Nodes: []*discovery.Node{{ID: "svc-1", Address: "10.0.0.1", Port: 80}}}); err != nil {
		t.Fatal(err)
	}
	r := router.New(reg, router.WithThrottle(0), router.WithStrategy(router.RoundRobin()),
		router.WithEjection(router.Ejection{ConsecutiveFailures: 5}))
	defer r.Close()
	if _, err := r.Pick(ctx, "svc", ""); err != nil {
		t.Fatal(err)
	}
	ejection := func() bool {
		p, err := r.Pick(ctx, "svc", "")
		if err != nil {
			return false
		}
		p.Done(nil, time.Millisecond)
		return true
	}
	cb := gobreaker.NewCircuitBreaker(gobreaker.Settings{Name: "bench"})
	two := gobreaker.NewTwoStepCircuitBreaker(gobreaker.Settings{Name: "bench"})
	execute := func() bool {
		_, err := cb.Execute(func() (any, error) { return nil, nil })
		return err == nil
	}
	twoStep := func() bool {
		done, err := two.Allow()
		if err != nil {
			return false
		}
		done(true)
		return true
	}
	// Not a breaker: the adaptive throttle (Google SRE) on the same
	// request path, kept as an extra row under its own name.
	th := router.NewThrottle(2, time.Minute)
	throttle := func() bool {
		if !th.Allow() {
			return false
		}
		th.Record(true)
		return true
	}
	compare.Run(t,
		compare.Case{Name: "ejection Pick+Done vs gobreaker TwoStep Allow+done", Ours: serial(ejection), Peer: serial(twoStep)},
		compare.Case{Name: "ejection Pick+Done vs gobreaker Execute", Ours: serial(ejection), Peer: serial(execute)},
		compare.Case{Name: "ejection Pick+Done vs gobreaker Execute (parallel)", Ours: parallel(ejection), Peer: parallel(execute)},
		compare.Case{Name: "extra: adaptive throttle Allow+Record vs gobreaker TwoStep", Ours: serial(throttle), Peer: serial(twoStep)},
	)
}

func TestCompareLimiter(t *testing.T) {
	ours := router.NewLimiter(1e12, 1<<30)
	peer := rate.NewLimiter(rate.Limit(1e12), 1<<30)
	compare.Run(t,
		compare.Case{Name: "token bucket Allow vs x/time/rate", Ours: serial(ours.Allow), Peer: serial(peer.Allow)},
		compare.Case{Name: "token bucket Allow vs x/time/rate (par.)", Ours: parallel(ours.Allow), Peer: parallel(peer.Allow)},
	)
}
