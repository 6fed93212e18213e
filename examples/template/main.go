// Command template is the service people copy: every go-os wrapper in the
// canonical order on HTTP and gRPC, server and client side; backends chosen
// by URL from config; health checks in monitor; and a graceful shutdown on
// SIGTERM.
//
//	go run ./examples/template            # every backend mem://, an in-process issuer
//	TEMPLATE_KV_URL=redis://127.0.0.1:6379/0 \
//	TEMPLATE_DISCOVERY_URL=consul://127.0.0.1:8500 \
//	TEMPLATE_AUTH_ISSUER=https://login.example.com TEMPLATE_AUTH_CLIENT=... TEMPLATE_AUTH_SECRET=... \
//	  go run ./examples/template
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

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authgrpc"
	"github.com/microos/go-os/auth/oauth2auth"
	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configgrpc"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/event"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/log/loggrpc"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricsgrpc"
	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/monitor/monitorgrpc"
	"github.com/microos/go-os/router"
	"github.com/microos/go-os/router/routergrpc"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracegrpc"

	// Importing an adapter registers its URL scheme: keep the ones you use.
	_ "github.com/microos/go-os/discovery/consuldiscovery"
	_ "github.com/microos/go-os/event/redisevent"
	_ "github.com/microos/go-os/kv/rediskv"
	_ "github.com/microos/go-os/metrics/statsdmetrics"
	_ "github.com/microos/go-os/sync/redissync"
	_ "github.com/microos/go-os/trace/otlptrace"
	_ "github.com/microos/go-os/trace/zipkintrace"
)

const name, version = "template", "v0.1.0"

func main() {
	// SIGTERM is how orchestrators ask a service to leave.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, addrs{http: "127.0.0.1:8080", grpc: "127.0.0.1:9090", admin: "127.0.0.1:8081"}, nil, nil); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// addrs: the API on HTTP and gRPC; probes and the status page on a port of
// their own, so that they never queue behind API traffic, never need a
// token, and can be kept off the public network.
type addrs struct{ http, grpc, admin string }

// run serves until ctx ends, then shuts down in order. listening, when not
// nil, learns the addresses (tests listen on :0); routes, when not nil,
// adds handlers to the API mux. An error while starting returns at once:
// main exits, and the process's end releases the rest.
func run(ctx context.Context, listen addrs, listening func(addrs), routes func(*http.ServeMux)) (err error) {
	// Config first: it chooses every backend. Env TEMPLATE_KV_URL → kv.url.
	cfg, err := config.New(ctx, []config.Source{config.NewEnv("TEMPLATE_")})
	if err != nil {
		return err
	}
	defer cfg.Close()
	url := func(key string) string { return cfg.Get(key, "url").String("mem://") }
	// Which instance is speaking, in logs, spans, metrics and discovery:
	// the orchestrator's name for it (TEMPLATE_INSTANCE=$POD_NAME) or ours.
	instance := cfg.Get("instance").String(fmt.Sprintf("%s-%d", name, os.Getpid()))
	advertise := cfg.Get("advertise").String("127.0.0.1") // the address callers dial: the pod IP in production

	logger, err := log.Open(ctx, cfg.Get("log", "url").String("stderr://"), log.WithService(name, version, instance), log.WithTraceIDs(trace.LogIDs))
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
	bus, err := event.Open(ctx, url("event"), event.WithService(name, version, instance), event.WithTracer(tracer))
	if err != nil {
		return err
	}
	cache := discovery.NewCache(reg) // lookups from memory, watched in the background
	rt := router.New(cache)
	authn, err := openAuth(ctx, cfg)
	if err != nil {
		return err
	}
	// Who may call what. Load it with auth.LoadPolicy to change it from
	// config without a restart.
	policy, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Service: name, Scopes: []string{"read"}},
	}, Default: "deny"})
	if err != nil {
		return err
	}

	// Health: everything with Check(ctx) error; critical ones gate readiness.
	mon := monitor.New(monitor.WithService(name, version, instance), monitor.WithMetrics(met),
		monitor.WithSection("router", func() any { return rt.Stats() }),   // per-node stats on the status page
		monitor.WithSection("config", func() any { return cfg.Status() })) // each source's last load
	for _, c := range []monitor.Checker{cfg, store, rt, locks, bus, authn} {
		if err := mon.Register("", c, monitor.Critical()); err != nil {
			return err
		}
	}
	for _, c := range []monitor.Checker{tracer, met, logger} {
		if err := mon.Register("", c); err != nil {
			return err
		}
	}

	// Client side, outermost first: trace → metrics → log → auth → router
	// → base. The router is innermost so that spans and metrics name the
	// service, not the node it picked; auth outside it so that one token
	// serves every node.
	base := &http.Transport{}
	client := &http.Client{Timeout: 10 * time.Second, Transport: trace.Transport(metrics.Transport(
		log.Transport(auth.Transport(router.Transport(base, rt), authn.Source), logger.Slog()), met), tracer)}
	_ = client // calls to other services: client.Get("http://orders/...")
	// The same order for gRPC; goos:///service resolves through the router.
	// (No TLS on loopback here: drop WithInsecure and the insecure
	// credentials in production.)
	peers, err := grpc.NewClient("goos:///"+name+"-grpc",
		grpc.WithResolvers(routergrpc.NewBuilder(rt)),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(
			tracegrpc.UnaryClientInterceptor(tracer),
			metricsgrpc.UnaryClientInterceptor(met),
			loggrpc.UnaryClientInterceptor(logger.Slog()),
			authgrpc.UnaryClientInterceptor(authn.Source, authgrpc.WithInsecure()),
			routergrpc.UnaryClientInterceptor(rt)))
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "hello", "name", r.PathValue("name"))
		// Answer only once the event is stored: a 200 means it is not lost.
		if _, err := bus.Publish(r.Context(), event.Record{Type: name + ".hello", Data: []byte(r.PathValue("name"))}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("name"))
	})
	// relay calls the gRPC side of this service through the client chain:
	// a peer of yours in real life.
	mux.HandleFunc("GET /relay/{name}", func(w http.ResponseWriter, r *http.Request) {
		out := new(wrapperspb.StringValue)
		if err := peers.Invoke(r.Context(), helloMethod, wrapperspb.String(r.PathValue("name")), out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, out.GetValue())
	})
	if routes != nil {
		routes(mux)
	}
	// Server side, outermost first: recover → trace → metrics → log →
	// auth → config snapshot → mux (see README, "Wrapper order", for why).
	handler := recoverer(trace.Middleware(tracer)(metrics.Middleware(met)(log.Middleware(logger.Slog())(
		auth.Middleware(authn.Verifier, policy, auth.WithServiceName(name), auth.WithRoutes(mux))(config.Middleware(cfg)(mux))))))
	admin := http.NewServeMux()
	admin.Handle("/monitor/", mon.Handler()) // /monitor/health/live, /monitor/health/ready, /monitor/status

	gsrv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(recoverUnary,
			tracegrpc.UnaryServerInterceptor(tracer),
			metricsgrpc.UnaryServerInterceptor(met),
			loggrpc.UnaryServerInterceptor(logger.Slog()),
			authgrpc.UnaryServerInterceptor(authn.Verifier, policy, authgrpc.WithServiceName(name), authgrpc.WithPublic(healthMethods)),
			configgrpc.UnaryServerInterceptor(cfg)),
		grpc.ChainStreamInterceptor(
			tracegrpc.StreamServerInterceptor(tracer),
			metricsgrpc.StreamServerInterceptor(met),
			loggrpc.StreamServerInterceptor(logger.Slog()),
			authgrpc.StreamServerInterceptor(authn.Verifier, policy, authgrpc.WithServiceName(name), authgrpc.WithPublic(healthMethods)),
			configgrpc.StreamServerInterceptor(cfg)))
	gsrv.RegisterService(&greeterDesc, nil)
	monitorgrpc.Register(gsrv, mon) // grpc.health.v1, answered from the same checks

	var ls [3]net.Listener
	for i, addr := range []string{listen.http, listen.grpc, listen.admin} {
		if ls[i], err = net.Listen("tcp", addr); err != nil {
			return err
		}
	}
	hl, gl, al := ls[0], ls[1], ls[2]
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	asrv := &http.Server{Handler: admin, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 3)
	go func() { served <- srv.Serve(hl) }()
	go func() { served <- gsrv.Serve(gl) }()
	go func() { served <- asrv.Serve(al) }()
	// Register once serving and ready (every critical check passed): a
	// caller that finds us gets an answer.
	var registrars []*discovery.Registrar
	for svc, l := range map[string]net.Listener{name: hl, name + "-grpc": gl} {
		if waitReady(ctx, mon) != nil {
			break // SIGTERM before we were ready: nothing to register
		}
		r, err := discovery.NewRegistrar(reg, &discovery.Service{Name: svc, Version: version,
			Nodes: []*discovery.Node{{ID: instance + "-" + svc, Address: advertise, Port: l.Addr().(*net.TCPAddr).Port}}})
		if err != nil {
			return err
		}
		registrars = append(registrars, r)
	}
	if listening != nil {
		listening(addrs{http: hl.Addr().String(), grpc: gl.Addr().String(), admin: al.Addr().String()})
	}
	logger.Info("serving", "http", hl.Addr().String(), "grpc", gl.Addr().String(), "admin", al.Addr().String())
	jobCtx, stopJob := context.WithCancel(ctx)
	defer stopJob()
	jobDone := make(chan struct{})
	go func() { defer close(jobDone); leaderJob(jobCtx, locks, instance, logger) }()

	select {
	case <-ctx.Done():
	case err = <-served:
	}

	// Shutdown, in order, within one deadline:
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{err, mon.Shutdown(sctx)} // 1. readiness false: the balancer stops sending
	for _, r := range registrars {
		errs = append(errs, r.Shutdown(sctx)) // 2. deregister: callers' routers drop this node
	}
	grpcDrained := make(chan struct{})
	go func() { gsrv.GracefulStop(); close(grpcDrained) }()
	errs = append(errs, srv.Shutdown(sctx)) // 3. drain in-flight requests, HTTP and gRPC
	select {
	case <-grpcDrained:
	case <-sctx.Done():
		gsrv.Stop() // the deadline beats a stuck stream
	}
	stopJob()
	errs = append(errs, locks.Shutdown(sctx)) // 4. release locks and leadership
	<-jobDone
	errs = append(errs,
		bus.Shutdown(sctx), // 5. flush: events, then traces, metrics and logs
		peers.Close(), rt.Shutdown(sctx), cache.Shutdown(sctx), store.Close(), reg.Close(), authn.Close(),
		tracer.Shutdown(sctx), met.Shutdown(sctx), logger.Shutdown(sctx),
		asrv.Shutdown(sctx), // last: probes answer "not ready" until the end
	)
	base.CloseIdleConnections()
	if errors.Is(errs[0], http.ErrServerClosed) {
		errs[0] = nil
	}
	return errors.Join(errs...)
}

// waitReady returns when the critical checks pass, or ctx's error.
func waitReady(ctx context.Context, mon *monitor.Monitor) error {
	for {
		changed := mon.Changed() // before Ready: a change in between is not missed
		if mon.Ready() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// janitor is the election of the service's periodic job: whichever
// instance leads runs it, the others wait their turn.
const janitor = name + "/janitor"

// leaderJob campaigns until ctx ends and, while this instance leads, runs
// the periodic job. Leadership ends when the lease is lost (the job's ctx
// ends with it) or when locks.Shutdown releases it at SIGTERM.
func leaderJob(ctx context.Context, locks *ossync.Client, instance string, logger *log.Logger) {
	for ctx.Err() == nil {
		l, err := locks.Campaign(ctx, janitor, instance)
		if err != nil { // ctx done, the client closed, or the backend down: try again later
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		tick := time.NewTicker(time.Minute)
		for done := false; !done; {
			select {
			case <-tick.C:
				logger.InfoContext(l.Context(), "janitor: sweeping") // the job; use l.Context() for its calls
			case <-l.Done():
				done = true
			case <-ctx.Done():
				done = true // locks.Shutdown releases it
			}
		}
		tick.Stop()
	}
}

// openAuth connects to the issuer config names (auth.issuer, auth.client,
// auth.secret, auth.audience). Without one it starts an in-process issuer
// that only this process has a client of: local runs work, and nothing
// from outside gets in (it fails closed, never open).
func openAuth(ctx context.Context, cfg *config.Config) (*authSet, error) {
	get := func(key string) string { return cfg.Get("auth", key).String("") }
	c := oauth2auth.Config{Issuer: get("issuer"), ClientID: get("client"), ClientSecret: get("secret"),
		Audience: cfg.Get("auth", "audience").String(name), Scopes: []string{"read"}}
	var local *auth.MemoryIssuer
	if c.Issuer == "" {
		local = auth.NewMemoryIssuer()
		local.AddClient(name, "local", "read")
		c.Issuer, c.ClientID, c.ClientSecret = local.URL(), name, "local"
	}
	a, err := oauth2auth.New(ctx, c)
	if err != nil {
		if local != nil {
			local.Close()
		}
		return nil, err
	}
	return &authSet{Auth: a, local: local}, nil
}

type authSet struct {
	*oauth2auth.Auth
	local *auth.MemoryIssuer
}

func (a *authSet) Close() error {
	err := a.Auth.Close()
	if a.local != nil {
		a.local.Close()
	}
	return err
}

const healthMethods = "/grpc.health.v1.Health/*"

// The gRPC service. In your service this is the code protoc generates
// (pb.RegisterGreeterServer); here it is declared by hand on a well-known
// type so that the template needs no code generation.
const helloMethod = "/template.Greeter/Hello"

var greeterDesc = grpc.ServiceDesc{
	ServiceName: "template.Greeter",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Hello",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			hello := func(ctx context.Context, req any) (any, error) {
				return wrapperspb.String("hello, " + req.(*wrapperspb.StringValue).GetValue() + "\n"), nil
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: helloMethod}, hello)
		},
	}},
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

func recoverUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = status.Errorf(codes.Internal, "panic: %v", v)
		}
	}()
	return next(ctx, req)
}
