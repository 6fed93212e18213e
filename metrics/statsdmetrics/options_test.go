package statsdmetrics_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

func TestOpenURL(t *testing.T) {
	r := listen(t, "127.0.0.1:0")
	m, err := metrics.Open(context.Background(), "statsd://"+r.addr()+"?tags=influx&interval=1h&max_packet=512&sample_rate=1&max_values=10&namespace=svc&tag=env:ci")
	if err != nil {
		t.Fatal(err)
	}
	m.Counter("opened_total").Add(2)
	m.Close()
	r.wait(t, "the influx line", func(_ int, sums map[string]float64) bool { return sums["svc.opened_total,env=ci"] == 2 })

	for _, raw := range []string{
		"statsd://",
		"statsd://" + r.addr() + "?tags=carbon",
		"statsd://" + r.addr() + "?interval=soon",
		"statsd://" + r.addr() + "?max_packet=big",
		"statsd://" + r.addr() + "?sample_rate=half",
		"statsd://" + r.addr() + "?sample_rate=2",
		"statsd://" + r.addr() + "?color=blue",
	} {
		if m, err := metrics.Open(context.Background(), raw); err == nil {
			m.Close()
			t.Errorf("Open(%q) accepted", raw)
		}
	}
}

// Sampled and reservoir-capped timer values are sent with the rate that
// lets the daemon recover the true count.
func TestSampleRate(t *testing.T) {
	r := listen(t, "127.0.0.1:0")
	var got []string
	d, err := statsdmetrics.New(r.addr(), statsdmetrics.WithSampleRate(0.5), statsdmetrics.WithMaxValues(1000), statsdmetrics.WithFlushInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(d)
	tm := m.Timer("sampled_seconds").With()
	const n = 10_000
	for range n {
		tm.Observe(time.Millisecond)
	}
	m.Close()
	r.wait(t, "the sampled values", func(p int, _ map[string]float64) bool { return p > 0 && uint64(p) == d.Stats().Packets })
	got = r.lines()
	var estimate float64
	for _, l := range got {
		_, rate, ok := strings.Cut(l, "|@")
		if !ok {
			t.Fatalf("line %q has no sample rate", l)
		}
		f, err := strconv.ParseFloat(rate, 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		estimate += 1 / f
	}
	if len(got) != 1000 || math.Abs(estimate-n) > n/10 {
		t.Errorf("%d lines estimating %.0f observations, want 1000 lines estimating about %d", len(got), estimate, n)
	}
}
