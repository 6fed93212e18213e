package monitorgrpc_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/monitor/monitorgrpc"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHealthService(t *testing.T) {
	var fail atomic.Bool
	m := monitor.New(monitor.WithService("orders", "v1", "o-1"))
	defer m.Close()
	ran := make(chan struct{}, 1)
	m.Add("db", func(context.Context) error {
		select {
		case ran <- struct{}{}:
		default:
		}
		if fail.Load() {
			return errors.New("down")
		}
		return nil
	}, monitor.Critical(), monitor.Interval(20*time.Millisecond))
	m.Add("cache", func(context.Context) error { return nil }, monitor.Interval(time.Hour))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	monitorgrpc.Register(s, m)
	go s.Serve(l)
	defer s.Stop()
	cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	hc := healthpb.NewHealthClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{Service: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	next := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for {
			r, err := w.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == want {
				return
			}
		}
	}
	next(healthpb.HealthCheckResponse_SERVING)
	if r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "db"}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("db: %v %v", r, err)
	}
	fail.Store(true)
	next(healthpb.HealthCheckResponse_NOT_SERVING)
	if r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("overall: %v %v", r, err)
	}
	if r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "cache"}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("cache: %v %v", r, err)
	}
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown: %v", err)
	}
	fail.Store(false)
	next(healthpb.HealthCheckResponse_SERVING)
	lr, err := hc.List(ctx, &healthpb.HealthListRequest{})
	if err != nil || len(lr.Statuses) != 3 {
		t.Fatalf("list %v %v", lr, err)
	}
	cancel()
}
