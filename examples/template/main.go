// Command template is the service people copy: every go-os wrapper in the
// canonical order, backends chosen by URL from config, health checks in
// monitor, and a graceful shutdown on SIGTERM.
//
//	go run ./examples/template            # all backends mem://
//	TEMPLATE_KV_URL=redis://127.0.0.1:6379/0 go run ./examples/template
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/router"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/trace"
)

const name, version = "template", "v0.1.0"

func main() {
	// SIGTERM is how orchestrators ask a service to leave.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, "127.0.0.1:8080", nil, nil); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down in order. listening, when not
// nil, learns the address (tests listen on :0); routes, when not nil, adds
// handlers to the mux.
func run(ctx context.Context, addr string, listening func(string), routes func(*http.ServeMux)) (err error) {
	// Config first: it chooses every backend. Env TEMPLATE_KV_URL → kv.url.
	cfg, err := config.New(ctx, []config.Source{config.NewEnv("TEMPLATE_")})
	if err != nil {
		return err
	}
	defer cfg.Close()
	url := func(key string) string { return cfg.Get(key, "url").String("mem://") }
	instance := fmt.Sprintf("%s-%d", name, os.Getpid())

	logger, err := log.New(log.WithService(name, version, instance), log.WithTraceIDs(trace.LogIDs))
	if err != nil {
		return err
	}
	tracer, err := trace.Open(ctx, url("trace"), trace.WithService(name, version, instance))
	if err != nil {
		return err
	}
	met, err := metrics.Open(ctx, url("metrics"), metrics.WithService(name, version, instance))
	if err != nil {
		return err
	}
	store, err := kv.Open(ctx, url("kv"))
	if err != nil {
		return err
	}
	reg, err := discovery.Open(ctx, url("discovery"))
	if err != nil {
		return err
	}
	locks, err := ossync.Open(ctx, url("sync"))
	if err != nil {
		return err
	}
	cache := discovery.NewCache(reg) // lookups from memory, watched in the background
	rt := router.New(cache)

	// Health: everything with Check(ctx) error; critical ones gate readiness.
	mon := monitor.New(monitor.WithService(name, version, instance), monitor.WithMetrics(met))
	for _, c := range []monitor.Checker{cfg, store, rt, locks} {
		if err := mon.Register("", c, monitor.Critical()); err != nil {
			return err
		}
	}
	for _, c := range []monitor.Checker{tracer, met, logger} {
		if err := mon.Register("", c); err != nil {
			return err
		}
	}

	// Client side, outermost first: trace → metrics → log → (auth) → router
	// → base. Calls to other services go through client.
	base := &http.Transport{}
	client := &http.Client{Timeout: 10 * time.Second, Transport: trace.Transport(
		metrics.Transport(log.Transport(router.Transport(base, rt), logger.Slog()), met), tracer)}
	_ = client

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "hello", "name", r.PathValue("name"))
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("name"))
	})
	if routes != nil {
		routes(mux)
	}
	mux.Handle("/monitor/", mon.Handler()) // probes: /monitor/health/live, /monitor/health/ready
	// Server side, outermost first: recover → trace → metrics → log →
	// (auth) → config snapshot → mux.
	handler := recoverer(trace.Middleware(tracer)(metrics.Middleware(met)(
		log.Middleware(logger.Slog())(config.Middleware(cfg)(mux)))))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	port := ln.Addr().(*net.TCPAddr).Port
	regr, err := discovery.NewRegistrar(reg, &discovery.Service{Name: name, Version: version,
		Nodes: []*discovery.Node{{ID: instance, Address: "127.0.0.1", Port: port}}})
	if err != nil {
		return err
	}
	if listening != nil {
		listening(ln.Addr().String())
	}
	logger.Info("serving", "addr", ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}

	// Shutdown, in order, within one deadline:
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(
		mon.Shutdown(sctx),   // 1. readiness false: the balancer stops sending
		regr.Shutdown(sctx),  // 2. deregister: callers' routers drop this node
		srv.Shutdown(sctx),   // 3. drain in-flight requests
		locks.Shutdown(sctx), // 4. release locks and leadership
		rt.Shutdown(sctx), cache.Shutdown(sctx), store.Close(), reg.Close(),
		tracer.Shutdown(sctx), met.Shutdown(sctx), logger.Shutdown(sctx), // 5. flush
	)
	base.CloseIdleConnections()
	return err
}

func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				http.Error(w, fmt.Sprint("panic: ", v), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
