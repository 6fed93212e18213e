package log_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/microos/go-os/log"
)

// printEntries prints the fields of every line but the time, which varies.
func printEntries(m *log.Memory, keys ...string) {
	es, err := m.Entries()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range es {
		for i, k := range keys {
			if i > 0 {
				fmt.Print(" ")
			}
			fmt.Printf("%s=%v", k, e[k])
		}
		fmt.Println()
	}
}

func ExampleNew() {
	out := log.NewMemory()
	logger, err := log.New(
		log.WithOutput(out),
		log.WithService("billing", "1.4.0", "billing-0"),
		log.WithAsync(log.OnFull(log.Drop)),
	)
	if err != nil {
		panic(err)
	}
	logger.Info("invoice sent", "invoice", 1042, "password", "hunter2")
	logger.Debug("not logged at the default level")
	if err := logger.Close(); err != nil { // flushes the queue
		panic(err)
	}
	printEntries(out, "level", "msg", "service", "invoice", "password")
	// Output:
	// level=INFO msg=invoice sent service=billing invoice=1042 password=[REDACTED]
}

func ExampleOpen() {
	logger, err := log.Open(context.Background(), "mem://?level=debug&format=json&service=api")
	if err != nil {
		panic(err)
	}
	logger.Debug("cache warm", "entries", 128)
	logger.Close()
	printEntries(logger.Outputs()[0].(*log.Memory), "level", "msg", "service", "entries")
	// Output:
	// level=DEBUG msg=cache warm service=api entries=128
}

func ExampleWithTraceIDs() {
	type spanKey struct{}
	// The trace package provides this function; any tracer can.
	ids := func(ctx context.Context) (traceID, spanID string, ok bool) {
		s, ok := ctx.Value(spanKey{}).([2]string)
		return s[0], s[1], ok
	}
	out := log.NewMemory()
	logger, _ := log.New(log.WithOutput(out), log.WithTraceIDs(ids))
	ctx := context.WithValue(context.Background(), spanKey{}, [2]string{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"})
	logger.WithGroup("db").InfoContext(ctx, "query", "rows", 3)
	logger.Close()
	printEntries(out, "msg", "trace_id", "span_id", "db")
	// Output:
	// msg=query trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 db=map[rows:3]
}

func ExampleMiddleware() {
	out := log.NewMemory()
	logger, _ := log.New(log.WithOutput(out))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "order")
	})
	req := httptest.NewRequest("GET", "/orders/7", nil)
	req.Header.Set(log.RequestIDHeader, "req-1")
	log.Middleware(logger.Logger)(mux).ServeHTTP(httptest.NewRecorder(), req)
	logger.Close()
	printEntries(out, "msg", "method", "route", "status", "bytes", "request_id")
	// Output:
	// msg=http request method=GET route=GET /orders/{id} status=200 bytes=5 request_id=req-1
}

func ExampleNewSampler() {
	out := log.NewMemory()
	logger, _ := log.New(log.WithOutput(out), log.WithSampling(2, 100, time.Second))
	for range 1000 {
		logger.Warn("queue full")
	}
	logger.Close()
	fmt.Println("lines < 50:", len(out.Lines()) < 50, "dropped > 900:", logger.Stats().Dropped > 900)
	// Output:
	// lines < 50: true dropped > 900: true
}

func ExampleJSONHandler() {
	out := log.NewMemory()
	logger := slog.New(log.NewJSONHandler(out, nil))
	logger.With("user", "ann").WithGroup("req").Info("login", "ok", true)
	printEntries(out, "msg", "user", "req")
	// Output:
	// msg=login user=ann req=map[ok:true]
}
