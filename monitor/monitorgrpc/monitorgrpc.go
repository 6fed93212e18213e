// Package monitorgrpc serves the standard grpc.health.v1 service from a
// monitor's cached check results, so gRPC load balancers and Kubernetes
// gRPC probes see the same readiness as /health/ready.
//
// Service names: "" and the monitor's service name are the overall
// readiness (every critical check passes: SERVING); the name of a check
// is that check alone. Any other name is NOT_FOUND for Check and
// SERVICE_UNKNOWN for Watch. While the monitor stops, everything is
// NOT_SERVING.
package monitorgrpc

import (
	"context"
	"time"

	"github.com/microos/go-os/monitor"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Server implements grpc_health_v1.HealthServer.
type Server struct {
	healthpb.UnimplementedHealthServer
	m *monitor.Monitor
}

// NewServer returns the health service of m.
func NewServer(m *monitor.Monitor) *Server { return &Server{m: m} }

// Register registers the health service of m on s.
func Register(s grpc.ServiceRegistrar, m *monitor.Monitor) {
	healthpb.RegisterHealthServer(s, NewServer(m))
}

func (s *Server) status(name string) (healthpb.HealthCheckResponse_ServingStatus, bool) {
	serving := func(ok bool) healthpb.HealthCheckResponse_ServingStatus {
		if ok {
			return healthpb.HealthCheckResponse_SERVING
		}
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	if name == "" || name == s.m.Service().Name {
		return serving(s.m.Ready()), true
	}
	cs, ok := s.m.CheckState(name)
	if !ok {
		return healthpb.HealthCheckResponse_SERVICE_UNKNOWN, false
	}
	return serving(cs.OK && s.m.Status() != monitor.StatusStopping), true
}

// Check answers from cached results.
func (s *Server) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	st, ok := s.status(req.GetService())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "monitorgrpc: unknown service %q", req.GetService())
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}

// List returns the overall status under "" and every check under its name.
func (s *Server) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	out := map[string]*healthpb.HealthCheckResponse{}
	st, _ := s.status("")
	out[""] = &healthpb.HealthCheckResponse{Status: st}
	for _, c := range s.m.Checks() {
		st, _ := s.status(c.Name)
		out[c.Name] = &healthpb.HealthCheckResponse{Status: st}
	}
	return &healthpb.HealthListResponse{Statuses: out}, nil
}

// Watch sends the status at once and again on every change (a result
// going stale is seen within a second).
func (s *Server) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	last := healthpb.HealthCheckResponse_ServingStatus(-1)
	// results also go stale without a run: look again every second
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		changed := s.m.Changed()
		st, _ := s.status(req.GetService())
		if st != last {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case <-changed:
		case <-tick.C:
		}
	}
}
