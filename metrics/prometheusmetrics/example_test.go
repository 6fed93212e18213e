package prometheusmetrics_test

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/prometheusmetrics"
)

func Example() {
	d := prometheusmetrics.New()
	m := metrics.New(d, metrics.WithNamespace("shop"))
	defer m.Close()
	m.Counter("orders_total", metrics.Labels("payment"), metrics.Help("Orders placed.")).With("payment", "card").Add(3)

	// What a scrape of d.Handler() reads.
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "shop_orders_total") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// # HELP shop_orders_total Orders placed.
	// # TYPE shop_orders_total counter
	// shop_orders_total{payment="card"} 3
}
