// Package routerbench compares the router's hot paths with the peers the
// issue names: go-kit's sd/lb pickers, grpc-go's round_robin picker,
// sony/gobreaker and golang.org/x/time/rate, doing the same work.
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

// A closed breaker: the check and the success report every request makes.
func TestCompareBreaker(t *testing.T) {
	th := router.NewThrottle(2, time.Minute)
	cb := gobreaker.NewCircuitBreaker(gobreaker.Settings{Name: "bench"})
	two := gobreaker.NewTwoStepCircuitBreaker(gobreaker.Settings{Name: "bench"})
	ours := func() bool {
		if !th.Allow() {
			return false
		}
		th.Record(true)
		return true
	}
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
	compare.Run(t,
		compare.Case{Name: "closed breaker vs gobreaker Execute", Ours: serial(ours), Peer: serial(execute)},
		compare.Case{Name: "closed breaker vs gobreaker TwoStep", Ours: serial(ours), Peer: serial(twoStep)},
		compare.Case{Name: "closed breaker vs gobreaker (parallel)", Ours: parallel(ours), Peer: parallel(execute)},
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
