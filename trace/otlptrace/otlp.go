// Package otlptrace exports spans to any OpenTelemetry collector (the
// OpenTelemetry Collector, Jaeger, Grafana Tempo, a vendor's endpoint)
// over OTLP/HTTP with protobuf bodies, the protocol's default transport,
// or over OTLP/gRPC (NewGRPC, otlp+grpc://host:4317), using the protocol's
// own generated types (go.opentelemetry.io/proto/otlp).
//
//	tr, err := trace.Open(ctx, "otlp+http://127.0.0.1:4318?service=checkout")
//
// or, with options of your own:
//
//	exp, err := otlptrace.New("http://127.0.0.1:4318", otlptrace.WithHeaders(map[string]string{"x-api-key": key}))
//	tr := trace.New(exp, trace.WithService("checkout", "1.4.2", hostname))
//
// The endpoint is the collector's base URL (/v1/traces is added) or the
// full URL of its traces path. The exporter only sends a batch: the
// trace.Tracer in front of it owns the bounded queue, batching, retries
// and drop counting, exactly as for zipkintrace.
//
// # Mapping
//
// A span's service is the resource's service.name; the tags
// service.version and service.instance.id (trace.WithService) go to the
// resource too. Tags become string attributes, except those OpenTelemetry's
// semantic conventions define as integers (http.response.status_code,
// rpc.grpc.status_code, server.port, ...), sent as ints when they parse.
// SetError sets the span's status to ERROR with the message; the remote
// endpoint becomes network.peer.address, network.peer.port and
// peer.service; events become span events; the tracestate the span
// carried is the span's trace_state.
//
// # Errors
//
// As the OTLP specification says: an answer of 429, 502, 503 or 504, a
// connection failure or a timeout wraps trace.ErrUnavailable (the tracer
// retries the batch with backoff); any other non-2xx answer wraps
// trace.ErrRejected (dropped and counted), with the collector's answer
// reachable as a *StatusError. A 2xx answer whose partial_success rejects
// spans is reported as a *PartialError wrapping trace.ErrRejected.
package otlptrace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/microos/go-os/trace"
)

func init() {
	trace.Register("otlp+http", open)
	trace.Register("otlp+https", open)
}

func open(_ context.Context, u *url.URL) (trace.Exporter, error) {
	if err := trace.NoParams(u); err != nil {
		return nil, err
	}
	c := *u
	c.Scheme = strings.TrimPrefix(u.Scheme, "otlp+")
	return New(c.String())
}

// TracesPath is where an OTLP/HTTP receiver takes spans.
const TracesPath = "/v1/traces"

// Exporter posts batches of spans to an OTLP/HTTP receiver. It is safe for
// concurrent use.
type Exporter struct {
	url        string
	client     *http.Client
	ownsClient bool
	headers    http.Header
	encoders   encoders
}

// Option configures an Exporter.
type Option func(*Exporter)

// WithHTTPClient sends with c instead of a client of the exporter's own;
// Close leaves c alone.
func WithHTTPClient(c *http.Client) Option {
	return func(e *Exporter) { e.client, e.ownsClient = c, false }
}

// WithHeaders adds headers to every export request (an API key, a tenant).
func WithHeaders(h map[string]string) Option {
	return func(e *Exporter) {
		for k, v := range h {
			e.headers.Set(k, v)
		}
	}
}

// New returns an exporter that posts to endpoint: http(s)://host:4318 (the
// receiver's base URL, /v1/traces is added) or the full traces URL.
func New(endpoint string, opts ...Option) (*Exporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("otlptrace: endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlptrace: endpoint %q: want http(s)://host:4318", u.Redacted())
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = TracesPath
	}
	e := &Exporter{url: u.String(), headers: http.Header{}}
	for _, opt := range opts {
		opt(e)
	}
	if e.client == nil {
		e.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		e.ownsClient = true
	}
	e.headers.Set("Content-Type", "application/x-protobuf")
	return e, nil
}

// URL is where the exporter posts.
func (e *Exporter) URL() string { return e.url }

// As sets *i to the exporter's HTTP client when i is a **http.Client, for
// Tracer.As.
func (e *Exporter) As(i any) bool {
	if p, ok := i.(**http.Client); ok {
		*p = e.client
		return true
	}
	return false
}

// StatusError is a receiver's answer other than 2xx.
type StatusError struct {
	Code int
	Body string // the start of the answer (a google.rpc.Status message when protobuf)
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("OTLP receiver answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// PartialError is a 2xx answer that says the receiver dropped some spans.
type PartialError struct {
	Rejected int64
	Message  string
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("OTLP receiver rejected %d spans: %s", e.Rejected, e.Message)
}

// Export posts one batch as an ExportTraceServiceRequest.
func (e *Exporter) Export(ctx context.Context, spans []*trace.SpanData) error {
	// The body is a new buffer each time: a transport may still be
	// sending it after Do returned (http.RoundTripper's contract).
	var body []byte
	err := e.encoders.use(spans, func(req *coltracepb.ExportTraceServiceRequest) (err error) {
		body, err = proto.Marshal(req)
		return err
	})
	if err != nil {
		return trace.Rejected(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return trace.Rejected(err)
	}
	for k, v := range e.headers {
		req.Header[k] = v
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return trace.Unavailable(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		var ans coltracepb.ExportTraceServiceResponse
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") && proto.Unmarshal(msg, &ans) == nil {
			if ps := ans.GetPartialSuccess(); ps.GetRejectedSpans() > 0 {
				return trace.Rejected(&PartialError{Rejected: ps.GetRejectedSpans(), Message: ps.GetErrorMessage()})
			}
		}
		return nil
	}
	if len(msg) > 512 {
		msg = msg[:512]
	}
	serr := &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return trace.Unavailable(serr)
	}
	return trace.Rejected(serr)
}

// Close closes the idle connections of the client the exporter made.
func (e *Exporter) Close() error {
	if e.ownsClient {
		e.client.CloseIdleConnections()
	}
	return nil
}
