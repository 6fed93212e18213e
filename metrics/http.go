package metrics

import (
	"github.com/microos/go-os/internal/httpwrap"
	"net/http"
	"time"
)

// RequestMetrics are the metrics every transport wrapper records (net/http
// Middleware and Transport here, the gRPC interceptors in metricsgrpc),
// under the same names and labels whatever the transport:
//
//	<side>.requests_total            counter  route, method, class
//	<side>.errors_total              counter  route, method, class (4xx, 5xx and error only)
//	<side>.request_duration_seconds  timer    route, method
//
// where side is http.server, http.client, grpc.server or grpc.client, and
// class is 1xx to 5xx, or error when no response came (a transport
// failure). gRPC codes map onto the HTTP classes (see metricsgrpc).
type RequestMetrics struct {
	requests *Counter
	errors   *Counter
	duration *Timer
}

// NewRequestMetrics defines the request metrics of one side on m.
func NewRequestMetrics(m *Metrics, side string, opts ...HTTPOption) *RequestMetrics {
	o := collectHTTP(opts)
	return &RequestMetrics{
		requests: m.Counter(side+".requests_total", Labels("route", "method", "class"), Help("Requests, by route, method and status class.")),
		errors:   m.Counter(side+".errors_total", Labels("route", "method", "class"), Help("Requests that failed (4xx, 5xx, or no response), by route, method and status class.")),
		duration: m.Timer(side+".request_duration_seconds", Labels("route", "method"), Help("Request latency in seconds, by route and method."), Buckets(o.buckets...)),
	}
}

// Record records one request.
func (r *RequestMetrics) Record(route, method, class string, took time.Duration) {
	r.requests.With("route", route, "method", method, "class", class).Inc()
	if class == "4xx" || class == "5xx" || class == "error" {
		r.errors.With("route", route, "method", method, "class", class).Inc()
	}
	r.duration.With("route", route, "method", method).Observe(took)
}

// StatusClass returns "1xx" to "5xx" for an HTTP status code, "error" for
// anything else.
func StatusClass(code int) string {
	switch {
	case code >= 100 && code < 200:
		return "1xx"
	case code >= 200 && code < 300:
		return "2xx"
	case code >= 300 && code < 400:
		return "3xx"
	case code >= 400 && code < 500:
		return "4xx"
	case code >= 500 && code < 600:
		return "5xx"
	}
	return "error"
}

// HTTPOption configures Middleware, Transport and NewRequestMetrics.
type HTTPOption func(*httpOptions)

type httpOptions struct {
	route   func(*http.Request) string
	buckets []float64
}

// WithRoute sets how a request is named in the route label. Keep it to a
// bounded set of values (a pattern, never the raw path): every distinct
// value is a series. Without it the server side uses the ServeMux pattern
// that matched (r.Pattern, "unmatched" when none did) and the client side
// the request's host.
func WithRoute(route func(*http.Request) string) HTTPOption {
	return func(o *httpOptions) { o.route = route }
}

// WithDurationBuckets sets the latency histogram's buckets, in seconds.
func WithDurationBuckets(bounds ...float64) HTTPOption {
	return func(o *httpOptions) { o.buckets = bounds }
}

func collectHTTP(opts []HTTPOption) httpOptions {
	var o httpOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Middleware records the request metrics (see RequestMetrics) of the
// handler it wraps, side http.server:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /users/{id}", getUser)
//	http.ListenAndServe(addr, metrics.Middleware(m)(mux))
//
// The route is the pattern the ServeMux matched ("GET /users/{id}"), read
// after the handler ran, unless WithRoute. A handler that panics is
// recorded as a 5xx and the panic goes on.
func Middleware(m *Metrics, opts ...HTTPOption) func(http.Handler) http.Handler {
	if m == nil { // no metrics: nothing to record, as trace.Middleware(nil)
		return func(next http.Handler) http.Handler { return next }
	}
	o := collectHTTP(opts)
	rm := NewRequestMetrics(m, "http.server", opts...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			if ctx := httpwrap.WithRouteSlot(r.Context()); ctx != r.Context() {
				r = r.WithContext(ctx) // outermost go-os wrapper: the slot starts here
			}
			sw := httpwrap.NewRecorder(w)
			defer func() {
				status := sw.Status()
				if p := recover(); p != nil {
					status = http.StatusInternalServerError
					defer panic(p)
				}
				rm.Record(serverRoute(o, r), r.Method, StatusClass(status), time.Since(start))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

func serverRoute(o httpOptions, r *http.Request) string {
	if o.route != nil {
		return o.route(r)
	}
	if route := httpwrap.Route(r); route != "" {
		return route
	}
	return "unmatched"
}

// Transport records the request metrics (see RequestMetrics) of the
// requests sent through base (http.DefaultTransport if nil), side
// http.client; a request that got no response is class "error".
func Transport(base http.RoundTripper, m *Metrics, opts ...HTTPOption) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return &transport{base: base, o: collectHTTP(opts), rm: NewRequestMetrics(m, "http.client", opts...)}
}

type transport struct {
	base http.RoundTripper
	o    httpOptions
	rm   *RequestMetrics
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	class := "error"
	if err == nil {
		class = StatusClass(resp.StatusCode)
	}
	route := req.URL.Host
	if t.o.route != nil {
		route = t.o.route(req)
	}
	t.rm.Record(route, req.Method, class, time.Since(start))
	return resp, err
}
