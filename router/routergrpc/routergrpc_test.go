package routergrpc_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/router"
	"github.com/microos/go-os/router/routergrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// node is a real gRPC server on loopback serving the health service.
type node struct {
	srv   *grpc.Server
	calls atomic.Int64
}

// startNodes starts n gRPC servers registered as "greeter" in reg.
func startNodes(t *testing.T, reg discovery.Registry, n int) []*node {
	t.Helper()
	nodes := make([]*node, n)
	svc := &discovery.Service{Name: "greeter"}
	for i := range nodes {
		nd := &node{}
		nd.srv = grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			nd.calls.Add(1)
			if r, ok := req.(*healthpb.HealthCheckRequest); ok && r.Service == "missing" {
				return nil, status.Error(codes.NotFound, "no such service")
			}
			return h(ctx, req)
		}))
		healthpb.RegisterHealthServer(nd.srv, health.NewServer())
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go nd.srv.Serve(l)
		t.Cleanup(nd.srv.Stop)
		port := l.Addr().(*net.TCPAddr).Port
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: "greeter-" + strconv.Itoa(i), Address: "127.0.0.1", Port: port})
		nodes[i] = nd
	}
	if err := reg.Register(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	return nodes
}

func dial(t *testing.T, r *router.Router, interceptor bool) healthpb.HealthClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithResolvers(routergrpc.NewBuilder(r)), grpc.WithTransportCredentials(insecure.NewCredentials())}
	if interceptor {
		opts = append(opts, grpc.WithChainUnaryInterceptor(routergrpc.UnaryClientInterceptor(r)))
	}
	conn, err := grpc.NewClient("goos:///greeter", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func TestBalancesWithTheRouter(t *testing.T) {
	for _, interceptor := range []bool{false, true} {
		t.Run(fmt.Sprintf("interceptor=%v", interceptor), func(t *testing.T) {
			reg := discovery.NewMemory()
			defer reg.Close()
			nodes := startNodes(t, reg, 3)
			r := router.New(reg, router.WithStrategy(router.RoundRobin()))
			defer r.Close()
			client := dial(t, r, interceptor)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Calls go to the connected nodes while the others connect.
			for connected := 0; connected < len(nodes); {
				if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
					t.Fatal(err)
				}
				connected = 0
				for _, n := range nodes {
					if n.calls.Load() > 0 {
						connected++
					}
				}
			}
			before := make([]int64, len(nodes))
			for i, n := range nodes {
				before[i] = n.calls.Load()
			}
			for i := 0; i < 60; i++ {
				if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
					t.Fatal(err)
				}
			}
			for i, n := range nodes {
				if c := n.calls.Load() - before[i]; c < 10 {
					t.Errorf("node %d served %d of 60 calls, want its share of round robin", i, c)
				}
			}
			// An application error is the caller's, not the node's.
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "missing"})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("Check(missing) = %v, want NotFound", err)
			}
			st, _ := r.ServiceStats("greeter")
			// Every call reports to the router (Done), none as a node failure.
			if st.Requests < 61 || st.Errors != 0 {
				t.Errorf("router stats: %d requests, %d errors; want Done fed for every call and no node error", st.Requests, st.Errors)
			}
		})
	}
}

// Real traffic: three gRPC servers, one killed mid-load. With the
// interceptor's retries no call fails; without, some do.
func TestKillNodeMidLoad(t *testing.T) {
	for _, retries := range []bool{true, false} {
		t.Run(fmt.Sprintf("retries=%v", retries), func(t *testing.T) {
			reg := discovery.NewMemory()
			defer reg.Close()
			nodes := startNodes(t, reg, 3)
			opts := []router.Option{router.WithStrategy(router.RoundRobin())}
			if retries {
				opts = append(opts, router.WithRetryPolicy(router.Retry{Attempts: 3, Backoff: time.Millisecond}))
			}
			r := router.New(reg, opts...)
			defer r.Close()
			client := dial(t, r, retries)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}

			const workers, perWorker = 8, 250
			var done, failed atomic.Int64
			var kill sync.Once
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWorker; i++ {
						if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
							failed.Add(1)
						}
						if done.Add(1) == workers*perWorker/4 {
							kill.Do(nodes[1].srv.Stop)
						}
					}
				}()
			}
			wg.Wait()
			st, _ := r.ServiceStats("greeter")
			t.Logf("retries=%v: %d of %d calls failed; %d retries, %d node failures, %d ejections",
				retries, failed.Load(), workers*perWorker, st.Retries, st.Errors, st.Ejections)
			if retries && failed.Load() != 0 {
				t.Errorf("%d calls failed with retries on, want 0", failed.Load())
			}
		})
	}
}

// With one of two nodes dead and no interceptor, calls still go through:
// the unreachable node counts as failing (so it is ejected), and a pick
// that finds no connected node falls back to a ready one instead of
// making the call wait.
func TestDeadNodeWithoutInterceptor(t *testing.T) {
	reg := discovery.NewMemory()
	t.Cleanup(func() { reg.Close() })
	startNodes(t, reg, 1)
	dead := testenv.FreePort(t)
	host, port, _ := net.SplitHostPort(dead)
	p, _ := strconv.Atoi(port)
	if err := reg.Register(context.Background(), &discovery.Service{Name: "greeter",
		Nodes: []*discovery.Node{{ID: "greeter-dead", Address: host, Port: p}}}); err != nil {
		t.Fatal(err)
	}
	r := router.New(reg)
	t.Cleanup(func() { r.Close() })
	client := dial(t, r, false)
	failed := 0
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			failed++
		}
		cancel()
	}
	if failed > 2 {
		t.Fatalf("%d of 20 calls failed with one of two nodes dead", failed)
	}
}
