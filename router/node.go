package router

import (
	"net"
	"strconv"

	"github.com/microos/go-os/discovery"
)

// Metadata keys the router reads from a node's metadata. Registries carry
// them as ordinary metadata, so a node sets them at registration.
const (
	// MetaWeight is the node's relative weight for the Weighted strategy:
	// a positive integer, 1 when absent or malformed. 0 drains the node:
	// it gets no traffic while a node with a weight does.
	MetaWeight = "weight"
)

// Node is one instance of a service as the router sees it: a snapshot of
// what discovery returned. Nodes are values shared by every pick; treat
// Metadata as read-only.
type Node struct {
	// Service and Version name the service the node belongs to.
	Service, Version string
	// ID is unique among the service's nodes; the router keeps a node's
	// stats, latency and ejection state under it across updates.
	ID string
	// Address is where to connect: host:port (or the bare host when
	// discovery gave no port).
	Address string
	// Zone is the node's failure domain, for PreferZone.
	Zone     string
	Metadata map[string]string
}

// Weight is the node's MetaWeight, or 1.
func (n Node) Weight() int {
	w, err := strconv.Atoi(n.Metadata[MetaWeight])
	if err != nil || w < 0 {
		return 1
	}
	return w
}

func fromDiscovery(svc *discovery.Service, n *discovery.Node) Node {
	addr := n.Address
	if n.Port != 0 {
		addr = net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
	}
	return Node{Service: svc.Name, Version: svc.Version, ID: n.ID, Address: addr, Zone: n.Zone, Metadata: n.Metadata}
}

func (n *Node) equal(o *Node) bool {
	if n.Service != o.Service || n.Version != o.Version || n.ID != o.ID || n.Address != o.Address || n.Zone != o.Zone || len(n.Metadata) != len(o.Metadata) {
		return false
	}
	for k, v := range n.Metadata {
		if w, ok := o.Metadata[k]; !ok || w != v {
			return false
		}
	}
	return true
}
