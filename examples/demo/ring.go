package main

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

// ring is a counter instance's share of the counter's state with -kv
// ringkv (the default): the instances pool their memory, every key on both
// (ringkv keeps 2 copies), and find each other in discovery. The peers'
// calls go to a port of their own, not through the service's wrappers:
// they are the store's traffic, authenticated by a shared secret.
type ring struct {
	*ringkv.Ring
	store kv.Store
	srv   *http.Server
	url   string // what the peers call; in the instance's discovery metadata
}

func (s *system) newRing() (*ring, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &ring{url: "http://" + ln.Addr().String() + "/_kv"}
	if r.Ring, err = ringkv.New(r.url, nil, ringkv.WithDiscovery(s.reg, s.ns+"counter"), ringkv.WithSecret(s.ringSecret)); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/_kv/", r.Handler())
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	r.store = r.Store()
	return r, nil
}

// crash stops the instance's ring the way a dead process does: no
// handoff, its peer port gone.
func (r *ring) crash() {
	r.srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Ring.Shutdown(ctx) // a cancelled ctx: stop at once, hand nothing off
}

// shutdown is a graceful leave: hand the keys off, then stop serving. At
// the demo's end the leave's own error is not one: the instance left
// standing after the crash has no live peer to hand its keys to.
func (r *ring) shutdown(ctx context.Context) error {
	r.Ring.Shutdown(ctx)
	r.store.Close()
	return r.srv.Shutdown(ctx)
}
