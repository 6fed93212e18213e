package statsdmetrics_test

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

// The lines a daemon receives, in each tag format: counters summed, the
// timer in milliseconds, all in one packet sent on Close.
func Example() {
	daemon, _ := net.ListenPacket("udp", "127.0.0.1:0") // stands in for the statsd daemon
	defer daemon.Close()

	for _, format := range []statsdmetrics.TagFormat{statsdmetrics.Datadog, statsdmetrics.Influx, statsdmetrics.Graphite} {
		d, err := statsdmetrics.New(daemon.LocalAddr().String(), statsdmetrics.WithTagFormat(format))
		if err != nil {
			fmt.Println(err)
			return
		}
		m := metrics.New(d, metrics.WithNamespace("shop"), metrics.WithTags("env", "prod"))
		orders := m.Counter("orders_total", metrics.Labels("payment")).With("payment", "card")
		for range 1000 {
			orders.Inc()
		}
		m.Timer("checkout_seconds").Observe(42 * time.Millisecond)
		m.Close() // flushes

		buf := make([]byte, 1500)
		daemon.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, _ := daemon.ReadFrom(buf)
		lines := strings.Split(string(buf[:n]), "\n")
		slices.Sort(lines)
		fmt.Printf("%s:\n  %s\n", format, strings.Join(lines, "\n  "))
	}
	// Output:
	// datadog:
	//   shop.checkout_seconds:42|ms|#env:prod
	//   shop.orders_total:1000|c|#env:prod,payment:card
	// influx:
	//   shop.checkout_seconds,env=prod:42|ms
	//   shop.orders_total,env=prod,payment=card:1000|c
	// graphite:
	//   shop.checkout_seconds;env=prod:42|ms
	//   shop.orders_total;env=prod;payment=card:1000|c
}
