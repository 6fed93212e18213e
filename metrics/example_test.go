package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/microos/go-os/metrics"
)

func Example() {
	m := metrics.NewMemory(metrics.WithNamespace("shop"), metrics.WithTags("env", "test"))
	defer m.Close()

	orders := m.Counter("orders_total", metrics.Labels("payment"))
	card := orders.With("payment", "card") // bind once, record many times
	card.Inc()
	card.Add(2)
	orders.With("payment", "cash").Inc()
	m.Gauge("cart_items").Set(7)
	m.Timer("checkout_duration_seconds").Observe(120 * time.Millisecond)

	snap, _ := m.Snapshot()
	for _, p := range snap {
		fmt.Println(p.Name, p.Labels, p.Value, p.Count)
	}
	// Output:
	// shop.cart_items [{env test}] 7 0
	// shop.checkout_duration_seconds [{env test}] 0 1
	// shop.orders_total [{env test} {payment card}] 3 0
	// shop.orders_total [{env test} {payment cash}] 1 0
}

func ExampleOpen() {
	m, err := metrics.Open(context.Background(), "mem://?namespace=api&tag=region:eu-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	m.Counter("hits_total").Inc()
	snap, _ := m.Snapshot()
	fmt.Println(snap[0].Name, snap[0].Labels, snap[0].Value)
	// Output: api.hits_total [{region eu-1}] 1
}

func ExampleCounter_With() {
	m := metrics.NewMemory()
	requests := m.Counter("requests_total", metrics.Labels("route", "class"))
	requests.With("route", "/users", "class", "2xx").Inc()
	requests.With("class", "5xx", "route", "/users").Inc() // any order
	snap, _ := m.Snapshot()
	fmt.Println(snap.Value("requests_total", "route", "/users", "class", "2xx"))
	fmt.Println(snap.Value("requests_total", "route", "/users", "class", "5xx"))
	// Output:
	// 1
	// 1
}

func ExampleMaxSeries() {
	m := metrics.NewMemory()
	byUser := m.Counter("logins_total", metrics.Labels("user"), metrics.MaxSeries(2))
	for _, u := range []string{"ann", "bob", "cid", "dee"} {
		byUser.With("user", u).Inc()
	}
	snap, _ := m.Snapshot()
	for _, p := range snap {
		fmt.Println(p.Name, p.Labels, p.Value)
	}
	// Output:
	// logins_total [{user _overflow}] 2
	// logins_total [{user ann}] 1
	// logins_total [{user bob}] 1
	// metrics.overflow_total [{metric logins_total}] 2
}

func ExampleWithErrorHandler() {
	m := metrics.NewMemory(metrics.WithErrorHandler(func(err error) {
		fmt.Println(err, errors.Is(err, metrics.ErrInvalidValue))
	}))
	m.Counter("bytes_total").Add(-5)
	// Output: metrics: add "bytes_total": metrics: invalid value: -5 true
}

func ExampleMiddleware() {
	m := metrics.NewMemory()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	h := metrics.Middleware(m)(mux)

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/42", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))

	snap, _ := m.Snapshot()
	for _, p := range snap {
		if p.Name == "http.server.requests_total" {
			fmt.Println(p.Label("route"), p.Label("class"), p.Value)
		}
	}
	// Output:
	// GET /users/{id} 2xx 1
	// unmatched 4xx 1
}

func ExampleWithService() {
	m := metrics.NewMemory(metrics.WithService("orders", "1.4.2", "orders-7f9c"))
	defer m.Close()
	m.Counter("requests_total").Inc()
	snap, _ := m.Snapshot()
	for _, p := range snap {
		fmt.Println(p.Name, p.Labels, p.Value)
	}
	// Output:
	// requests_total [{instance orders-7f9c} {service orders} {version 1.4.2}] 1
}
