package monitor

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkCheckRun is one run of a trivial check: the monitor's own cost
// per run (goroutine, timeout, damping, status).
func BenchmarkCheckRun(b *testing.B) {
	m := New(manual())
	defer m.Close()
	for i := range 50 {
		m.Add(fmt.Sprint("c", i), func(context.Context) error { return nil })
	}
	c := (*m.checks.Load())[0]
	b.ReportAllocs()
	for b.Loop() {
		m.run(c)
	}
}

// BenchmarkFiftyChecksCPU runs 50 checks on their background schedule,
// 100 times faster than once a second (every 10ms), for a second, and
// reports the process CPU per run and scaled to 50 checks every second,
// as a percentage of one core. b.N is not used: the run is timed.
func BenchmarkFiftyChecksCPU(b *testing.B) {
	if !readProcess().Available {
		b.Skip("process CPU needs Linux /proc")
	}
	for b.Loop() {
	}
	m := New()
	for i := range 50 {
		m.Add(fmt.Sprint("c", i), func(context.Context) error { return nil }, Interval(10*time.Millisecond))
	}
	runs := func() (n uint64) {
		for _, c := range m.Checks() {
			n += c.Runs
		}
		return n
	}
	p0, r0, t0 := readProcess(), runs(), time.Now()
	time.Sleep(time.Second) // the measured window
	p1, r1, wall := readProcess(), runs(), time.Since(t0)
	m.Close()
	cpu := (p1.CPUUser + p1.CPUSystem) - (p0.CPUUser + p0.CPUSystem)
	n := r1 - r0
	perRun := float64(cpu) / float64(n)
	b.ReportMetric(float64(n)/wall.Seconds(), "runs/s")
	b.ReportMetric(perRun, "cpu-ns/run")
	b.ReportMetric(perRun*50/1e9*100, "%core@50/s")
}
