package monitormetrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/monitor/monitormetrics"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGauges(t *testing.T) {
	met := metrics.NewMemory()
	mem := monitor.NewMemorySink()
	mon := monitor.New(monitor.WithSink(monitormetrics.New(met)), monitor.WithSink(mem), monitor.WithPublishInterval(10*time.Millisecond))
	defer mon.Close()
	mon.Add("db", func(context.Context) error { return errors.New("down") }, monitor.Critical(), monitor.Interval(time.Hour))
	mon.Add("cache", func(context.Context) error { return nil }, monitor.Interval(time.Hour))
	// read the backend itself; the memory sink only paces the loop
	for {
		pub := mem.Published()
		snap, err := met.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if snap.Value("monitor.status", "status", "unhealthy") == 1 {
			if v := snap.Value("monitor.check.healthy", "check", "db", "critical", "true"); v != 0 {
				t.Fatalf("db healthy gauge %v", v)
			}
			if v := snap.Value("monitor.check.healthy", "check", "cache", "critical", "false"); v != 1 {
				t.Fatalf("cache healthy gauge %v", v)
			}
			if v := snap.Value("monitor.status", "status", "running"); v != 0 {
				t.Fatalf("running gauge %v", v)
			}
			if _, ok := snap.Find("monitor.ready"); !ok {
				t.Fatal("no ready gauge")
			}
			return
		}
		<-pub
	}
}
