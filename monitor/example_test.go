package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
)

func Example() {
	m := monitor.New(monitor.WithService("orders", "v1", "orders-1"))
	defer m.Close()
	m.Add("db", func(ctx context.Context) error { return nil },
		monitor.Critical(), monitor.Interval(time.Hour), monitor.Description("primary database"))
	m.Add("cache", func(ctx context.Context) error { return errors.New("connection refused") },
		monitor.Interval(time.Hour))
	ctx := context.Background()
	m.RunNow(ctx, "db")
	m.RunNow(ctx, "cache")

	fmt.Println(m.Status(), m.Ready())
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/monitor/health/ready", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	for _, c := range m.Checks() {
		fmt.Println(c.Name, c.OK, c.Error)
	}
	// Output:
	// degraded true
	// 200 ok
	// cache false connection refused
	// db true
}

func ExampleMonitor_Register() {
	met := metrics.NewMemory() // any go-os value with Check(ctx) error
	m := monitor.New()
	defer m.Close()
	m.Register("", met, monitor.Critical(), monitor.Interval(time.Hour))
	err := m.RunNow(context.Background(), "metrics.Metrics")
	fmt.Println(err, m.Ready())
	// Output: <nil> true
}

func ExampleMonitor_Add_timeout() {
	m := monitor.New()
	defer m.Close()
	m.Add("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
		monitor.Critical(), monitor.Interval(time.Hour), monitor.Timeout(10*time.Millisecond))
	err := m.RunNow(context.Background(), "slow")
	fmt.Println(errors.Is(err, monitor.ErrTimeout), m.Status())
	// Output: true unhealthy
}
