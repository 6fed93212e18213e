package router_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

// A whole request's routing: Pick (service lookup, throttle, picker) and
// Done (outstanding, stats, EWMA, throttle, ejection) over 100 nodes.
func BenchmarkRouterPickDone(b *testing.B) {
	for _, s := range []router.Strategy{router.RoundRobin(), router.P2C()} {
		for _, parallel := range []bool{false, true} {
			name := s.Name() + "/serial"
			if parallel {
				name = s.Name() + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				reg := discovery.NewMemory()
				defer reg.Close()
				svc := &discovery.Service{Name: "api"}
				for i := 0; i < 100; i++ {
					svc.Nodes = append(svc.Nodes, &discovery.Node{ID: "api-" + strconv.Itoa(i), Address: "10.0.0.1", Port: 1000 + i})
				}
				if err := reg.Register(ctx, svc); err != nil {
					b.Fatal(err)
				}
				r := router.New(reg, router.WithStrategy(s))
				defer r.Close()
				if _, err := r.Pick(ctx, "api", ""); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							p, err := r.Pick(ctx, "api", "")
							if err != nil {
								b.Fatal(err)
							}
							p.Done(nil, time.Millisecond)
						}
					})
					return
				}
				for b.Loop() {
					p, err := r.Pick(ctx, "api", "")
					if err != nil {
						b.Fatal(err)
					}
					p.Done(nil, time.Millisecond)
				}
			})
		}
	}
}
