package consuldiscovery_test

import (
	"context"
	"log"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/consuldiscovery"
)

// With a client configured in code rather than by URL.
func ExampleDial() {
	cfg := api.DefaultConfig()
	cfg.Address = "127.0.0.1:8500"
	cfg.Token = "acl-token" // or ?token= in a consul:// URL
	reg, err := consuldiscovery.Dial(cfg, consuldiscovery.WithWaitTime(5*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()
	cache := discovery.NewCache(reg)
	defer cache.Close()
	services, err := cache.GetService(context.Background(), "billing")
	_, _ = services, err
}
