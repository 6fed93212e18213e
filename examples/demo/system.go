package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/config"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/event"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/router"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/trace"
)

// system is what the services share: on the embedded defaults every
// backend is in memory, so one process holds the whole SDK.
type system struct {
	urls       urls               // the backend of each package
	ns         string             // prefixes every name written to a shared backend
	reg        discovery.Registry // the registry the Registrars write to
	cache      *discovery.Cache   // lookups go through a cache, as in production
	rt         *router.Router     // the gateway's router over the cache
	spans      *trace.Recorder    // on mem://, every tracer exports here
	store      kv.Store           // the counter's state in a shared store; nil with ringkv
	ringSecret string             // with ringkv: what the counter instances authenticate each other with
	locks      *ossync.Client     // leader election among counter instances
	cfg        *config.Config     // file + env
	logOut     io.Writer          // where every service's JSON log lines go
	verify     auth.Verifier      // every server checks bearer tokens against the issuer
	policy     *auth.Policy       // and authorizes the call with one policy
	authn      *authSetup         // the tokens the gateway (and the intruder) call with
	bus        *event.Bus         // the greeter publishes, the counter consumes
	listen     string             // where the gateway listens (default 127.0.0.1:0)
	closers    []func() error     // what openSystem opened, in order
}

// openSystem opens what the services of one process share, each backend
// by its URL: discovery (and the gateway's cache and router over it), the
// counter's store (none with ringkv), leader election, the event bus, the
// auth setup and policy. close releases it all, last opened first.
func openSystem(ctx context.Context, o options, ns string, cfg *config.Config, logOut io.Writer, ringSecret string) (_ *system, err error) {
	s := &system{urls: o.urls, ns: ns, cfg: cfg, logOut: logOut, ringSecret: ringSecret}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.reg, err = discovery.Open(ctx, o.urls.discovery); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.reg.Close)
	s.cache = discovery.NewCache(s.reg)
	// One failure ejects a node: a refused connection is not a slow node.
	s.rt = router.New(s.cache, router.WithStrategy(router.RoundRobin()),
		router.WithRetryPolicy(router.Retry{Attempts: 3, Backoff: time.Millisecond}),
		router.WithEjection(router.Ejection{ConsecutiveFailures: 1, BaseTime: time.Minute}))
	s.closers = append(s.closers, s.cache.Close, s.rt.Close)
	if o.urls.kv != "ringkv" {
		if s.store, err = kv.Open(ctx, o.urls.kv, kv.WithNamespace(ns)); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, s.store.Close)
	}
	if s.locks, err = ossync.Open(ctx, o.urls.sync); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.locks.Close)
	// auth: services get tokens by client credentials and every server
	// enforces one policy: the gateway may greet and count, nobody else
	// may call anything.
	if s.authn, err = openAuth(ctx, o.auth); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.authn.close)
	s.verify = s.authn.verify
	if s.policy, err = auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{
		{Service: "greeter", Scopes: []string{s.authn.greet}},
		{Service: "counter", Scopes: []string{s.authn.count}},
	}, Default: "deny"}); err != nil {
		return nil, err
	}
	if strings.HasPrefix(o.urls.event, "mem:") {
		s.bus = event.NewMemory(event.WithService("greeter", "v1.0.0", "greeter-1"))
	} else if s.bus, err = event.Open(ctx, o.urls.event); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.bus.Close)
	return s, nil
}

func (s *system) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// service is one instance: its own tracer, metrics and logger tagged
// WithService, a real HTTP server on 127.0.0.1:0, registered in discovery.
// instance is the name the walkthrough prints; on a shared backend the
// instance is known by s.ns+instance, so that runs do not meet.
type service struct {
	name, instance string
	tr             *trace.Tracer
	met            *metrics.Metrics
	log            *log.Logger
	srv            *http.Server
	regr           *discovery.Registrar
	addr           *net.TCPAddr
	ring           *ring // with ringkv, on counter instances
}

func (s *system) start(ctx context.Context, name, instance string, mux *http.ServeMux, meta map[string]string) (*service, error) {
	const version = "v1.0.0"
	id := s.ns + instance
	lg, err := log.New(log.WithOutput(log.WriterOutput(s.logOut)), log.WithFormat(log.JSON),
		log.WithService(name, version, id),
		log.WithTraceIDs(trace.LogIDs)) // the one trace ↔ log bridge: ids at the top level
	if err != nil {
		return nil, err
	}
	svc := &service{name: name, instance: instance, log: lg}
	if s.spans != nil { // mem://: one recorder for all, to print the timeline from
		svc.tr = trace.New(s.spans, trace.WithService(name, version, id))
	} else if svc.tr, err = trace.Open(ctx, s.urls.trace, trace.WithService(name, version, id)); err != nil {
		return nil, err
	}
	if svc.met, err = metrics.Open(ctx, s.urls.metrics, metrics.WithService(name, version, id)); err != nil {
		return nil, err
	}
	addr := "127.0.0.1:0"
	if name == "gateway" && s.listen != "" {
		addr = s.listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	svc.addr = ln.Addr().(*net.TCPAddr)
	// Canonical server order, outermost first: recover → trace → metrics →
	// log → auth → config snapshot → mux.
	var h http.Handler = mux
	h = config.Middleware(s.cfg)(h)
	if name != "gateway" { // the edge is public here; behind it every call needs a service token
		h = auth.Middleware(s.verify, s.policy, auth.WithServiceName(name), auth.WithRoutes(mux))(h)
	}
	h = log.Middleware(lg.Slog())(h)
	h = metrics.Middleware(svc.met)(h)
	h = trace.Middleware(svc.tr)(h)
	h = recoverer(h)
	svc.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go svc.srv.Serve(ln)

	svc.regr, err = discovery.NewRegistrar(s.reg, &discovery.Service{Name: s.ns + name, Version: version,
		Nodes: []*discovery.Node{{ID: id, Address: "127.0.0.1", Port: svc.addr.Port, Metadata: meta}}})
	if err != nil {
		return nil, err
	}
	return svc, svc.regr.WaitRegistered(ctx)
}

// client is the canonical client order, outermost first: trace → metrics →
// log → auth → router → base transport. The router is innermost so spans
// and metrics name the logical service, not the node it picked; auth is
// outside it so one token serves every node.
func (s *system) client(svc *service, base *http.Transport, tokens *auth.TokenSource) *http.Client {
	var rt http.RoundTripper = base
	rt = router.Transport(rt, s.rt)
	rt = auth.Transport(rt, tokens)
	rt = log.Transport(rt, svc.log.Slog())
	rt = metrics.Transport(rt, svc.met)
	rt = trace.Transport(rt, svc.tr)
	return &http.Client{Transport: rt, Timeout: 10 * time.Second}
}

// crash is a crash, as seen from outside: the server goes away (and its
// share of the ring) but the registration stays until discovery notices,
// so only the router's outlier ejection protects callers meanwhile.
func (svc *service) crash() {
	svc.srv.Close()
	if svc.ring != nil {
		svc.ring.crash()
	}
}

// shutdown is a graceful leave: out of discovery first, so that callers
// stop picking it, then drain the requests in flight, hand the ring's keys
// off, and flush spans, metrics and logs.
func (svc *service) shutdown(ctx context.Context) error {
	err := errors.Join(svc.regr.Shutdown(ctx), svc.srv.Shutdown(ctx))
	if svc.ring != nil {
		err = errors.Join(err, svc.ring.shutdown(ctx))
	}
	return errors.Join(err, svc.tr.Shutdown(ctx), svc.met.Shutdown(ctx), svc.log.Shutdown(ctx))
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

func get(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), err
}
