package ringkv

import (
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/backoff"
)

// watch follows the service's instances in the registry and makes them
// the ring's members.
func (r *Ring) watch() {
	defer r.wg.Done()
	bo := backoff.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	for {
		ch, err := r.o.registry.Watch(r.ctx, r.o.service)
		if err != nil {
			r.discoHealth.Failure(err)
			if !backoff.Sleep(r.ctx, bo.Next()) {
				return
			}
			continue
		}
		bo.Reset()
		for ev := range ch {
			if ev.Type == discovery.EventError {
				r.discoHealth.Failure(ev.Err)
				continue
			}
			r.discoHealth.Success()
			r.fromDiscovery(ev.Services)
		}
		if r.ctx.Err() != nil {
			return
		}
	}
}

func (r *Ring) fromDiscovery(services []*discovery.Service) {
	var peers []string
	for _, n := range discovery.Nodes(services) {
		u := r.peerURL(n)
		if err := checkURL(u); err != nil {
			r.log.Warn("ringkv: ignoring a discovered instance", "node", n.ID, "err", err)
			continue
		}
		peers = append(peers, u)
	}
	if len(peers) == 0 {
		// No instance at all (a registry that lost its state, or this
		// instance not registered yet): keep the members known, rather
		// than drop every key for want of owners.
		r.log.Warn("ringkv: discovery lists no instance; keeping the current members", "service", r.o.service)
		r.discovered.Do(func() { close(r.firstView) })
		return
	}
	v, err := r.makeView(peers)
	if err != nil {
		return // checked above
	}
	r.setView(v)
	r.discovered.Do(func() { close(r.firstView) })
}

// peerURL is the handler URL of a discovered node.
func (r *Ring) peerURL(n *discovery.Node) string {
	if r.o.peerURL != nil {
		return r.o.peerURL(n)
	}
	if u := n.Metadata[MetadataURL]; u != "" {
		return u
	}
	host := n.Address
	if n.Port != 0 {
		host = net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
	}
	scheme, p := "http", ""
	if self, err := url.Parse(r.self); err == nil {
		scheme, p = self.Scheme, self.Path
	}
	return (&url.URL{Scheme: scheme, Host: host, Path: p}).String()
}
