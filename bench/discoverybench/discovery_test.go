// Package discoverybench compares discovery on Consul with its peers, the
// same work on both sides: an uncached lookup and a heartbeat against
// calling the official client, github.com/hashicorp/consul/api, directly;
// the Cache against go-kit's sd/consul cache (Instancer + Endpointer), both
// answering from memory after a blocking query filled them. The row
// "cache vs no cache" is not a peer comparison: it shows what the Cache
// saves over a round trip.
package discoverybench

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	kitconsul "github.com/go-kit/kit/sd/consul"
	kitlog "github.com/go-kit/log"
	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/consuldiscovery"
	"github.com/microos/go-os/internal/testenv"
)

func TestCompareConsul(t *testing.T) {
	ctx := context.Background()
	cfg := api.DefaultConfig()
	cfg.Address = testenv.Consul(t)
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Transport.CloseIdleConnections()
	reg := consuldiscovery.New(client)
	defer reg.Close()

	name := fmt.Sprintf("goos-bench-%d", time.Now().UnixNano())
	svc := &discovery.Service{Name: name, Version: "1"}
	for i := range 5 {
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: fmt.Sprintf("%s-%d", name, i), Address: "10.0.0.1", Port: 8000 + i})
	}
	if err := reg.Register(ctx, svc, discovery.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	defer reg.Deregister(context.Background(), svc)
	cache := discovery.NewCache(reg)
	defer cache.Close()
	if _, err := cache.GetService(ctx, name); err != nil {
		t.Fatal(err)
	}
	one := &discovery.Service{Name: name, Version: "1", Nodes: svc.Nodes[:1]}

	// go-kit's cache of the same service, on the same agent.
	logger := kitlog.NewNopLogger()
	instancer := kitconsul.NewInstancer(kitconsul.NewClient(client), logger, name, nil, true)
	defer instancer.Stop()
	factory := func(string) (endpoint.Endpoint, io.Closer, error) {
		return endpoint.Nop, nil, nil
	}
	endpointer := sd.NewEndpointer(instancer, factory, logger)
	defer endpointer.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if e, err := endpointer.Endpoints(); err == nil && len(e) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("go-kit's endpointer never saw the 5 nodes")
		}
		time.Sleep(10 * time.Millisecond)
	}

	compare.Run(t,
		compare.Case{
			Name: "discovery Cache.GetService vs go-kit sd Endpointer.Endpoints (both cached)",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if s, err := cache.GetService(ctx, name); err != nil || len(s[0].Nodes) != 5 {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if e, err := endpointer.Endpoints(); err != nil || len(e) != 5 {
						b.Fatal(len(e), err)
					}
				}
			},
		},
		compare.Case{
			Name: "cache vs no cache: discovery Cache.GetService vs consul/api Health().Service",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if s, err := cache.GetService(ctx, name); err != nil || len(s[0].Nodes) != 5 {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if e, _, err := client.Health().Service(name, "", true, nil); err != nil || len(e) != 5 {
						b.Fatal(err)
					}
				}
			},
		},
		compare.Case{
			Name: "consuldiscovery GetService (uncached) vs Health().Service",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if s, err := reg.GetService(ctx, name); err != nil || len(s[0].Nodes) != 5 {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if e, _, err := client.Health().Service(name, "", true, nil); err != nil || len(e) != 5 {
						b.Fatal(err)
					}
				}
			},
		},
		compare.Case{
			Name: "consuldiscovery heartbeat vs Agent().UpdateTTL",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := reg.Register(ctx, one, discovery.WithTTL(time.Minute)); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := client.Agent().UpdateTTL("service:"+one.Nodes[0].ID, "", api.HealthPassing); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
	)
}
