package trace

import (
	"fmt"
	"github.com/microos/go-os/internal/httpwrap"
	"net/http"
	"net/netip"
	"strconv"
)

// Tag keys the wrappers set: OpenTelemetry's semantic conventions for
// HTTP spans, so that a go-os span and an OpenTelemetry one of the same
// call look alike in any backend. trace/zipkintrace maps them to Zipkin's
// names (http.method, http.path, http.url, http.status_code).
const (
	TagHTTPMethod    = "http.request.method"       // both sides: GET
	TagURLPath       = "url.path"                  // server and client: /orders/7
	TagURLScheme     = "url.scheme"                // server: http or https
	TagURLFull       = "url.full"                  // client: the URL, without credentials
	TagServerAddress = "server.address"            // client: the host called
	TagServerPort    = "server.port"               // client: its port
	TagHTTPRoute     = "http.route"                // server: the ServeMux pattern matched
	TagHTTPStatus    = "http.response.status_code" // both sides: 200
)

// Middleware traces an HTTP server: each request gets a Server span that
// joins the caller's trace when its headers carry one (W3C or B3, see
// Extract) and starts a new trace otherwise. The span is named after the
// ServeMux pattern that matched ("GET /users/{id}"), or the method when
// there is none, and records the method, path, status and remote address;
// a 5xx status or a panic marks it failed. The handler finds the span with
// FromContext(r.Context()). A nil tracer returns the handler unchanged.
func Middleware(t *Tracer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if t == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cfg := startConfig{kind: Server}
			if sc, ok := Extract(r.Header); ok {
				cfg.hasParent, cfg.parent = true, sc
			}
			ctx, span := t.start(httpwrap.WithRouteSlot(r.Context()), r.Method, &cfg)
			r = r.WithContext(ctx)
			if !span.recording() { // not sampled: only the decision travels on
				next.ServeHTTP(w, r)
				return
			}
			span.SetTag(TagHTTPMethod, r.Method)
			span.SetTag(TagURLPath, r.URL.Path)
			if r.TLS != nil {
				span.SetTag(TagURLScheme, "https")
			} else {
				span.SetTag(TagURLScheme, "http")
			}
			if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
				span.SetRemote(Endpoint{Addr: ap})
			}
			sw := httpwrap.NewRecorder(w)
			defer func() {
				if p := recover(); p != nil {
					span.SetError(fmt.Errorf("panic: %v", p))
					endServer(span, r, sw.Status())
					panic(p)
				}
				endServer(span, r, sw.Status())
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

func endServer(span *Span, r *http.Request, status int) {
	if route := httpwrap.Route(r); route != "" {
		span.SetName(route)
		span.SetTag(TagHTTPRoute, route)
	}
	span.SetTag(TagHTTPStatus, statusString(status))
	if status >= 500 {
		span.SetError(fmt.Errorf("HTTP %d %s", status, http.StatusText(status)))
	}
	span.End()
}

// Transport traces an HTTP client: each request gets a Client span, child
// of the span in the request's context, and carries its context to the
// server in the tracer's header formats (an unsampled trace sends its "do
// not sample" decision on). The span ends when RoundTrip returns, that is
// when the response headers arrive; a transport error or a 5xx status
// marks it failed. The request is not modified: headers go on a copy. A
// nil base is http.DefaultTransport; a nil tracer returns base.
func Transport(base http.RoundTripper, t *Tracer) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if t == nil {
		return base
	}
	return &transport{base: base, t: t}
}

type transport struct {
	base http.RoundTripper
	t    *Tracer
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := tr.t.Start(req.Context(), req.Method, Client)
	sc := SpanContextFromContext(ctx) // the parent's when span is nil (unsampled)
	if !sc.IsValid() && sc.Sampling == Deferred {
		return tr.base.RoundTrip(req)
	}
	out := req.WithContext(ctx)
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	for _, h := range Headers {
		out.Header.Del(h)
	}
	Inject(sc, out.Header, tr.t.formats...)
	if span.recording() {
		span.SetTag(TagHTTPMethod, req.Method)
		span.SetTag(TagURLFull, req.URL.Redacted())
		span.SetTag(TagURLPath, req.URL.Path)
		span.SetTag(TagServerAddress, req.URL.Hostname())
		if port := req.URL.Port(); port != "" {
			span.SetTag(TagServerPort, port)
		} else if req.URL.Scheme == "https" {
			span.SetTag(TagServerPort, "443")
		} else {
			span.SetTag(TagServerPort, "80")
		}
		if ap, err := netip.ParseAddrPort(req.URL.Host); err == nil {
			span.SetRemote(Endpoint{Addr: ap})
		} else {
			span.SetRemote(Endpoint{Service: req.URL.Hostname()})
		}
	}
	resp, err := tr.base.RoundTrip(out)
	switch {
	case err != nil:
		span.SetError(err)
	default:
		span.SetTag(TagHTTPStatus, statusString(resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetError(fmt.Errorf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
		}
	}
	span.End()
	return resp, err
}

// statusStrings holds the status codes as strings, so that tagging a span
// with one does not allocate.
var statusStrings = func() (s [600]string) {
	for i := 100; i < len(s); i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusString(code int) string {
	if code >= 100 && code < len(statusStrings) {
		return statusStrings[code]
	}
	return strconv.Itoa(code)
}
