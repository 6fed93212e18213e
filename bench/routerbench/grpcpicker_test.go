package routerbench

import (
	"strconv"
	"testing"

	"google.golang.org/grpc/balancer"
	_ "google.golang.org/grpc/balancer/roundrobin" // registers round_robin
	"google.golang.org/grpc/connectivity"
	estats "google.golang.org/grpc/experimental/stats"
	"google.golang.org/grpc/resolver"
)

// grpcRoundRobinPicker builds grpc-go's own round_robin balancer over n
// ready fake SubConns and returns the picker it publishes: the real
// picker code, without connections.
func grpcRoundRobinPicker(t *testing.T, n int) balancer.Picker {
	cc := &fakeCC{}
	b := balancer.Get("round_robin").Build(cc, balancer.BuildOptions{})
	t.Cleanup(b.Close)
	var eps []resolver.Endpoint
	for i := 0; i < n; i++ {
		eps = append(eps, resolver.Endpoint{Addresses: []resolver.Address{{Addr: "10.0.0." + strconv.Itoa(i) + ":80"}}})
	}
	if err := b.UpdateClientConnState(balancer.ClientConnState{ResolverState: resolver.State{Endpoints: eps}}); err != nil {
		t.Fatal(err)
	}
	for _, sc := range cc.subConns {
		sc.listener(balancer.SubConnState{ConnectivityState: connectivity.Connecting})
		sc.listener(balancer.SubConnState{ConnectivityState: connectivity.Ready})
		// Healthy at once, as gRPC reports it without health checking.
		if sc.health != nil {
			sc.health(balancer.SubConnState{ConnectivityState: connectivity.Ready})
		}
	}
	if cc.state.ConnectivityState != connectivity.Ready || cc.state.Picker == nil {
		t.Fatalf("grpc round_robin did not become ready: %v", cc.state.ConnectivityState)
	}
	return cc.state.Picker
}

type fakeCC struct {
	balancer.ClientConn
	subConns []*fakeSubConn
	state    balancer.State
}

func (c *fakeCC) NewSubConn(addrs []resolver.Address, opts balancer.NewSubConnOptions) (balancer.SubConn, error) {
	sc := &fakeSubConn{listener: opts.StateListener}
	c.subConns = append(c.subConns, sc)
	return sc, nil
}

func (c *fakeCC) UpdateState(s balancer.State)                         { c.state = s }
func (c *fakeCC) ResolveNow(resolver.ResolveNowOptions)                {}
func (c *fakeCC) Target() string                                       { return "bench" }
func (c *fakeCC) RemoveSubConn(balancer.SubConn)                       {}
func (c *fakeCC) UpdateAddresses(balancer.SubConn, []resolver.Address) {}

type fakeSubConn struct {
	balancer.SubConn
	listener func(balancer.SubConnState)
	health   func(balancer.SubConnState)
}

func (s *fakeSubConn) Connect()                           {}
func (s *fakeSubConn) Shutdown()                          {}
func (s *fakeSubConn) UpdateAddresses([]resolver.Address) {}

func (s *fakeSubConn) RegisterHealthListener(l func(balancer.SubConnState)) { s.health = l }
func (s *fakeSubConn) GetOrBuildProducer(balancer.ProducerBuilder) (balancer.Producer, func()) {
	return nil, func() {}
}

func (c *fakeCC) MetricsRecorder() estats.MetricsRecorder { return noMetrics{} }

type noMetrics struct{ estats.MetricsRecorder }

func (noMetrics) RecordInt64Count(*estats.Int64CountHandle, int64, ...string)             {}
func (noMetrics) RecordFloat64Count(*estats.Float64CountHandle, float64, ...string)       {}
func (noMetrics) RecordInt64Histo(*estats.Int64HistoHandle, int64, ...string)             {}
func (noMetrics) RecordFloat64Histo(*estats.Float64HistoHandle, float64, ...string)       {}
func (noMetrics) RecordInt64Gauge(*estats.Int64GaugeHandle, int64, ...string)             {}
func (noMetrics) RecordInt64UpDownCount(*estats.Int64UpDownCountHandle, int64, ...string) {}
func (noMetrics) RegisterAsyncReporter(estats.AsyncMetricReporter, ...estats.AsyncMetric) func() {
	return func() {}
}
