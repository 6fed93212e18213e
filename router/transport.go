package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/hostrule"
)

type keyContext struct{}

// WithKey returns a ctx whose requests through Transport carry key as
// their routing key (for ConsistentHash).
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyContext{}, key)
}

// KeyFromContext returns the routing key WithKey put in ctx ("" if none).
func KeyFromContext(ctx context.Context) string {
	k, _ := ctx.Value(keyContext{}).(string)
	return k
}

// Transport returns an http.RoundTripper that sends a request for
// http://service-name/path to a node of service-name picked by r, through
// base (http.DefaultTransport when nil), so that an http.Client balances
// with the router's strategy:
//
//	client := &http.Client{Transport: router.Transport(nil, r)}
//	resp, err := client.Get("http://greeter/hello")
//
// Hosts that are not service names go to base unchanged, by the rule
// discovery.Transport follows too: a name with a dot (api.example.com), an
// IP literal, localhost, a host with a port; with services given, every
// host not among them (an allow-list). So the same client reaches outside
// hosts and services. The Host header stays the service name. A connection error and a 5xx
// response count as the node's failure (for ejection and P2C); with
// WithRetryPolicy, a request is retried on another node after a connection
// error or a 502, 503 or 504 if it can be sent again: its body can be
// replayed (none, or GetBody set, as http.NewRequest does) and either it
// never reached the node (the dial failed) or its method is idempotent
// (GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or an Idempotency-Key header).
// The last attempt's response is returned as is.
func Transport(base http.RoundTripper, r *Router, services ...string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, r: r, allow: services}
}

type transport struct {
	base  http.RoundTripper
	r     *Router
	allow []string
}

// statusError is a 5xx response seen as the node's failure.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("status %d %s", e.code, http.StatusText(e.code))
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	service, ok := hostrule.Service(req.URL.Host, t.allow)
	if !ok || discovery.ValidateName(service) != nil {
		return t.base.RoundTrip(req)
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	idempotent := isIdempotent(req)
	var last *http.Response
	attempt := 0
	err := t.r.do(req.Context(), service, KeyFromContext(req.Context()), func(ctx context.Context, n *Node) error {
		if last != nil {
			io.Copy(io.Discard, io.LimitReader(last.Body, 64<<10))
			last.Body.Close()
			last = nil
		}
		out := req.Clone(ctx)
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return Permanent(err)
			}
			out.Body = body
		}
		attempt++
		out.URL.Host = n.Address
		if out.Host == "" {
			out.Host = req.URL.Host
		}
		resp, err := t.base.RoundTrip(out)
		if err != nil {
			return err
		}
		last = resp
		if resp.StatusCode >= 500 {
			return &statusError{resp.StatusCode}
		}
		return nil
	}, func(err error) bool {
		if !replayable {
			return false
		}
		var se *statusError
		if errors.As(err, &se) {
			return idempotent && (se.code == http.StatusBadGateway || se.code == http.StatusServiceUnavailable || se.code == http.StatusGatewayTimeout)
		}
		var op *net.OpError
		return idempotent || (errors.As(err, &op) && op.Op == "dial")
	})
	var se *statusError
	if last != nil && (err == nil || errors.As(err, &se)) {
		return last, nil
	}
	if last != nil {
		last.Body.Close()
	}
	if attempt == 0 && req.Body != nil {
		req.Body.Close() // a RoundTripper closes the body, even when it sends nothing
	}
	return nil, err
}

func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	return ok
}

// Shed returns server-side load shedding for a handler: requests over
// limiter's rate (nil: no rate limit) get 429 Too Many Requests, and
// requests beyond maxConcurrent in flight (0: no limit) get 503 Service
// Unavailable, both with Retry-After: 1, before reaching next. Refusing
// early and cheaply is what lets the callers' routers move the load to
// another node. It is a middleware in go-os's sense (it wraps every
// request) but named for what it does; put it innermost on the server,
// after auth, so that a shed request is still traced, counted and logged.
func Shed(limiter *Limiter, maxConcurrent int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		var inflight chan struct{}
		if maxConcurrent > 0 {
			inflight = make(chan struct{}, maxConcurrent)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if limiter != nil && !limiter.Allow() {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "rate limited", http.StatusTooManyRequests)
				return
			}
			if inflight != nil {
				select {
				case inflight <- struct{}{}:
					defer func() { <-inflight }()
				default:
					w.Header().Set("Retry-After", "1")
					http.Error(w, "too many requests in flight", http.StatusServiceUnavailable)
					return
				}
			}
			next.ServeHTTP(w, req)
		})
	}
}
