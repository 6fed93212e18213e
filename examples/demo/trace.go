package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/microos/go-os/trace"
)

// demoTrace follows one request across four services — gateway, orders,
// inventory, payments — each with its own tracer, the trace context
// travelling in W3C and B3 headers, and prints the trace as a timeline
// (like the per-hop printout of a Hailo trace) with the log line the
// payments service wrote, which carries the trace id. The services talk
// over in-process HTTP: no sockets, no collector; spans land in one
// Recorder, as mem:// does.
func demoTrace(ctx context.Context, w io.Writer) error {
	rec := trace.NewRecorder()
	tracer := func(service string, formats ...trace.Format) *trace.Tracer {
		opts := []trace.Option{trace.WithService(service, "", "")}
		if len(formats) > 0 {
			opts = append(opts, trace.WithPropagation(formats...))
		}
		return trace.New(rec, opts...)
	}
	gateway, orders, inventory, payments := tracer("gateway"), tracer("orders", trace.B3Single), tracer("inventory"), tracer("payments")

	var logs strings.Builder
	logger := slog.New(trace.LogHandler(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	work := func(ctx context.Context, tr *trace.Tracer, name string, d time.Duration) {
		_, s := tr.Start(ctx, name)
		time.Sleep(d) // stands in for real work, so that the timeline has durations
		s.End()
	}

	// Each service is a traced handler; clients reach it through an
	// in-process transport wrapped by the caller's tracer.
	client := func(tr *trace.Tracer, h http.Handler) *http.Client {
		return &http.Client{Transport: trace.Transport(inProcess{h}, tr)}
	}

	invMux := http.NewServeMux()
	invMux.HandleFunc("GET /stock/{sku}", func(w http.ResponseWriter, r *http.Request) {
		work(r.Context(), inventory, "redis GET stock:"+r.PathValue("sku"), 400*time.Microsecond)
		fmt.Fprint(w, "3")
	})
	payMux := http.NewServeMux()
	payMux.HandleFunc("POST /charges", func(w http.ResponseWriter, r *http.Request) {
		ctx, s := payments.Start(r.Context(), "card network", trace.Client, trace.WithRemote(trace.Endpoint{Service: "acquirer"}))
		time.Sleep(time.Millisecond)
		s.SetError(errors.New("card declined"))
		s.End()
		logger.WarnContext(ctx, "charge refused", "reason", "card declined")
		http.Error(w, "card declined", http.StatusPaymentRequired)
	})
	inventoryClient := client(orders, trace.Middleware(inventory)(invMux))
	paymentsClient := client(orders, trace.Middleware(payments)(payMux))

	ordMux := http.NewServeMux()
	ordMux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		for _, sku := range []string{"book", "lamp"} {
			if err := call(r.Context(), inventoryClient, http.MethodGet, "http://inventory/stock/"+sku); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		if err := call(r.Context(), paymentsClient, http.MethodPost, "http://payments/charges"); err != nil {
			trace.FromContext(r.Context()).AddEvent("payment failed")
		}
		w.WriteHeader(http.StatusCreated)
	})
	ordersClient := client(gateway, trace.Middleware(orders)(ordMux))

	gwMux := http.NewServeMux()
	gwMux.HandleFunc("GET /checkout/{cart}", func(w http.ResponseWriter, r *http.Request) {
		work(r.Context(), gateway, "auth token check", 200*time.Microsecond)
		if err := call(r.Context(), ordersClient, http.MethodPost, "http://orders/orders"); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	gatewayHandler := trace.Middleware(gateway)(gwMux)

	// The request comes from outside with a W3C traceparent: the gateway joins it.
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/checkout/c42", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	gatewayHandler.ServeHTTP(httptest.NewRecorder(), req)

	id, _ := trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	spans := rec.Trace(id)
	fmt.Fprintln(w, "one checkout request across gateway → orders → inventory ×2, payments:")
	if err := trace.WriteTimeline(w, spans); err != nil {
		return err
	}
	fmt.Fprintf(w, "log line from payments: %s", logs.String())

	// An unsampled trace costs the services nothing and records nothing.
	req = httptest.NewRequestWithContext(ctx, http.MethodGet, "/checkout/c43", nil)
	req.Header.Set("b3", "0")
	before := len(rec.Spans())
	gatewayHandler.ServeHTTP(httptest.NewRecorder(), req)
	fmt.Fprintf(w, "a request with b3: 0 (caller said do not sample): %d spans recorded\n", len(rec.Spans())-before)

	for _, tr := range []*trace.Tracer{gateway, orders, inventory, payments} {
		if err := tr.Shutdown(ctx); err != nil {
			return err
		}
	}
	return nil
}

func call(ctx context.Context, c *http.Client, method, url string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	return nil
}

// inProcess delivers a request to a handler in the same process, so that
// the demo's services exchange real HTTP requests and headers without
// sockets.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
