package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/microos/go-os/internal/hostrule"
)

// Resolver is the read side of a Registry; a Cache is the usual one.
type Resolver interface {
	GetService(ctx context.Context, name string) ([]*Service, error)
}

// Transport returns an http.RoundTripper that sends a request for
// http://NAME/... to a node of the service NAME: it looks NAME up in r (a
// Cache, so that it costs no I/O), picks a node at random, and sends the
// request to its address and port through base (nil: http.DefaultTransport).
// Hosts that are not service names go to base unchanged, by the rule
// router.Transport follows too: a name with a dot (api.example.com), an IP
// literal, localhost, a host with a port; with services given, every host
// not among them. So do names r does not know (ErrNotFound). Load
// balancing with feedback is the router package's job; this is the plain
// name resolution underneath.
func Transport(base http.RoundTripper, r Resolver, services ...string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, r: r, allow: services}
}

type transport struct {
	base  http.RoundTripper
	r     Resolver
	allow []string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	host, ok := hostrule.Service(req.URL.Host, t.allow)
	if !ok || ValidateName(host) != nil {
		return t.base.RoundTrip(req)
	}
	svcs, err := t.r.GetService(req.Context(), host)
	if errors.Is(err, ErrNotFound) {
		return t.base.RoundTrip(req)
	}
	if err != nil {
		return nil, err
	}
	n := pick(svcs)
	if n == nil { // a Resolver of its own may answer services without nodes
		return nil, fmt.Errorf("discovery: service %q has no nodes: %w", host, ErrNotFound)
	}
	out := req.Clone(req.Context())
	out.URL.Host = n.Address
	if n.Port != 0 {
		out.URL.Host = net.JoinHostPort(n.Address, strconv.Itoa(n.Port))
	}
	if out.Host == "" {
		out.Host = host // the service name stays the Host header
	}
	return t.base.RoundTrip(out)
}

// pick returns a node at random among every version's, without allocating.
func pick(svcs []*Service) *Node {
	total := 0
	for _, s := range svcs {
		total += len(s.Nodes)
	}
	if total == 0 {
		return nil
	}
	i := rand.IntN(total)
	for _, s := range svcs {
		if i < len(s.Nodes) {
			return s.Nodes[i]
		}
		i -= len(s.Nodes)
	}
	return nil
}

// HealthHandler is an endpoint the user mounts (say on
// "/health/registry") that reports g's state as JSON, with status 200 while
// g.Check says the registration holds and 503 otherwise, so that a load
// balancer or monitor sees an instance that lost its registration:
//
//	mux.Handle("GET /health/registry", discovery.HealthHandler(registrar))
func HealthHandler(g *Registrar) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		st := g.State()
		body := struct {
			Status        string    `json:"status"`
			LastError     string    `json:"last_error,omitempty"`
			LastSuccess   time.Time `json:"last_success,omitzero"`
			Failures      int       `json:"failures"`
			Registrations int       `json:"registrations"`
		}{Status: st.Status.String(), LastSuccess: st.LastSuccess, Failures: st.Failures, Registrations: st.Registrations}
		if st.LastError != nil {
			body.LastError = st.LastError.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if g.Check(req.Context()) != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
}
