package discoverygrpc_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverygrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is a real gRPC server on loopback serving the health service.
func server(t *testing.T) (*discovery.Node, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health.NewServer())
	go s.Serve(l)
	host, port, _ := net.SplitHostPort(l.Addr().String())
	p, _ := strconv.Atoi(port)
	return &discovery.Node{ID: "health-" + port, Address: host, Port: p, Zone: "z" + port}, s.Stop
}

func TestDialByName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg := discovery.NewMemory()
	defer reg.Close()
	first, stopFirst := server(t)
	defer stopFirst()
	second, stopSecond := server(t)
	defer stopSecond()
	if err := reg.Register(ctx, &discovery.Service{Name: "health", Version: "1", Nodes: []*discovery.Node{first}}); err != nil {
		t.Fatal(err)
	}

	conn, err := grpc.NewClient("discovery:///health",
		grpc.WithResolvers(discoverygrpc.NewBuilder(reg)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	check := func() string {
		var p peer.Peer
		if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p)); err != nil {
			t.Fatalf("Check: %v", err)
		}
		return p.Addr.String()
	}
	want := net.JoinHostPort(first.Address, strconv.Itoa(first.Port))
	if got := check(); got != want {
		t.Fatalf("call went to %s, want %s", got, want)
	}

	// The service moves: the resolver follows without a redial.
	if err := reg.Register(ctx, &discovery.Service{Name: "health", Version: "1", Nodes: []*discovery.Node{second}}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Deregister(ctx, &discovery.Service{Name: "health", Nodes: []*discovery.Node{first}}); err != nil {
		t.Fatal(err)
	}
	want = net.JoinHostPort(second.Address, strconv.Itoa(second.Port))
	for check() != want {
		if ctx.Err() != nil {
			t.Fatal("calls never moved to the second server")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a resolver.ClientConn that records states.
type recorder struct {
	resolver.ClientConn
	states chan resolver.State
	errs   chan error
}

func (r *recorder) UpdateState(s resolver.State) error { r.states <- s; return nil }
func (r *recorder) ReportError(err error)              { r.errs <- err }

func TestEndpointsCarryNodes(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	ctx := context.Background()
	n1 := &discovery.Node{ID: "a", Address: "10.0.0.1", Port: 1, Zone: "eu", Metadata: map[string]string{"k": "v"}}
	n2 := &discovery.Node{ID: "b", Address: "10.0.0.2", Port: 2}
	reg.Register(ctx, &discovery.Service{Name: "svc", Version: "1", Nodes: []*discovery.Node{n1}})
	reg.Register(ctx, &discovery.Service{Name: "svc", Version: "2", Nodes: []*discovery.Node{n2}})

	rec := &recorder{states: make(chan resolver.State, 10), errs: make(chan error, 10)}
	b := discoverygrpc.NewBuilder(reg, discoverygrpc.WithVersion("1"))
	r, err := b.Build(resolver.Target{URL: *mustParse(t, "discovery:///svc")}, rec, resolver.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st := <-rec.states
	if len(st.Addresses) != 1 || st.Addresses[0].Addr != "10.0.0.1:1" {
		t.Fatalf("addresses %v, want only version 1's node", st.Addresses)
	}
	if len(st.Endpoints) != 1 || len(st.Endpoints[0].Addresses) != 1 || st.Endpoints[0].Addresses[0].Addr != "10.0.0.1:1" {
		t.Fatalf("endpoints %v, want only version 1's node", st.Endpoints)
	}
	node, version := discoverygrpc.Node(st.Endpoints[0])
	if !node.Equal(n1) || version != "1" {
		t.Fatalf("Node(endpoint) = %+v %q", node, version)
	}

	// A registry down from the start is reported to gRPC.
	down := discovery.NewMemory(discovery.WithRetry(time.Hour, time.Hour))
	defer down.Close()
	down.Fail(nil)
	r3, err := discoverygrpc.NewBuilder(down).Build(resolver.Target{URL: *mustParse(t, "discovery:///svc")}, rec, resolver.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	if err := <-rec.errs; !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("reported %v, want ErrUnavailable", err)
	}
}
