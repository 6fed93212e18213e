// Package consulmonitor mirrors a monitor's checks into Consul as TTL
// checks on the service's own registration, so that Consul health — and
// with it passing-only discovery lookups and the router — takes the node
// out of rotation while a critical check fails and back when it passes.
//
// Each check becomes the Consul check "monitor:<serviceID>:<check name>"
// with ServiceID set. A passing check is updated to passing; a failing
// critical check to critical; a failing non-critical check stays passing
// with its error in the output (degraded must not take the node out: a
// Consul warning does, since passing-only lookups drop warnings too), unless
// WithWarnNonCritical. The TTL (default 3 publish intervals, at least 10s)
// makes Consul itself mark the checks critical if the process stops
// publishing.
package consulmonitor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/microos/go-os/monitor"
)

// Option configures the sink.
type Option func(*Sink)

// WithTTL sets the Consul TTL of the mirrored checks.
func WithTTL(d time.Duration) Option { return func(s *Sink) { s.ttl = d } }

// WithWarnNonCritical reports failing non-critical checks as Consul
// warnings (which passing-only lookups also exclude).
func WithWarnNonCritical() Option { return func(s *Sink) { s.warn = true } }

// Sink is a monitor.Sink publishing to one Consul agent.
type Sink struct {
	c         *api.Client
	serviceID string
	ttl       time.Duration
	warn      bool

	mu         sync.Mutex
	registered map[string]bool
}

// New returns a sink mirroring checks onto the registration serviceID of
// the agent c talks to (the registration is the caller's, e.g. a
// discovery.Registrar's).
func New(c *api.Client, serviceID string, opts ...Option) *Sink {
	s := &Sink{c: c, serviceID: serviceID, ttl: 30 * time.Second, registered: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name is "consul".
func (s *Sink) Name() string { return "consul" }

// CheckID is the Consul check ID a monitor check is mirrored as.
func (s *Sink) CheckID(name string) string { return "monitor:" + s.serviceID + ":" + name }

// Publish registers checks not yet registered and updates every TTL.
func (s *Sink) Publish(ctx context.Context, r monitor.Report) error {
	ag := s.c.Agent()
	for _, c := range r.Checks {
		id := s.CheckID(c.Name)
		s.mu.Lock()
		reg := s.registered[id]
		s.mu.Unlock()
		if !reg {
			err := ag.CheckRegisterOpts(&api.AgentCheckRegistration{
				ID: id, Name: "monitor: " + c.Name, ServiceID: s.serviceID, Notes: c.Description,
				AgentServiceCheck: api.AgentServiceCheck{TTL: s.ttl.String(), Status: api.HealthCritical},
			}, (&api.QueryOptions{}).WithContext(ctx))
			if err != nil {
				return fmt.Errorf("consulmonitor: register check %s: %w", id, err)
			}
			s.mu.Lock()
			s.registered[id] = true
			s.mu.Unlock()
		}
		status, out := api.HealthPassing, "ok"
		if !c.OK {
			out = c.Error
			switch {
			case c.Critical:
				status = api.HealthCritical
			case s.warn:
				status = api.HealthWarning
			default:
				out = "degraded (non-critical): " + c.Error
			}
		}
		if err := ag.UpdateTTLOpts(id, out, status, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
			s.mu.Lock()
			delete(s.registered, id) // the agent may have lost it (restart): register again
			s.mu.Unlock()
			return fmt.Errorf("consulmonitor: update check %s: %w", id, err)
		}
	}
	return nil
}

// Deregister removes the mirrored checks (the service registration stays).
func (s *Sink) Deregister(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.registered {
		if err := s.c.Agent().CheckDeregisterOpts(id, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
			return err
		}
		delete(s.registered, id)
	}
	return nil
}
