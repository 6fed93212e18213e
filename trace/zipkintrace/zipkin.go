// Package zipkintrace exports spans to a Zipkin collector (or anything that
// speaks its v2 API: Jaeger, Grafana Tempo, the OpenTelemetry Collector) as
// Zipkin v2 JSON over HTTP: the document github.com/openzipkin/zipkin-go's
// serializer writes (a test checks that they decode alike), encoded
// without reflection or an intermediate model.
//
//	tr, err := trace.Open(ctx, "zipkin+http://127.0.0.1:9411/api/v2/spans?service=checkout")
//
// or, with a client of your own:
//
//	exp, err := zipkintrace.New("http://127.0.0.1:9411/api/v2/spans", zipkintrace.WithHTTPClient(c))
//	tr := trace.New(exp, trace.WithService("checkout", "", ""))
//
// The exporter only sends a batch: the trace.Tracer in front of it owns the
// bounded queue, so a slow or absent collector costs the service dropped
// spans (Tracer.Stats().Dropped), never latency.
//
// OpenTelemetry's semantic-convention tags the go-os wrappers set are sent
// under Zipkin's names: http.request.method as http.method, url.path as
// http.path, url.full as http.url, http.response.status_code as
// http.status_code, and rpc.grpc.status_code as grpc.status_code with the
// code's name ("OK"). Every other tag is sent as it is.
//
// # Errors
//
// Export wraps connection failures, timeouts and 5xx or 429 answers as
// trace.ErrUnavailable (the tracer retries the batch with backoff), and
// other 4xx answers as trace.ErrRejected (dropped); the collector's answer
// is reachable as a *StatusError.
package zipkintrace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/microos/go-os/trace"
)

func init() {
	trace.Register("zipkin+http", open)
	trace.Register("zipkin+https", open)
}

func open(_ context.Context, u *url.URL) (trace.Exporter, error) {
	if err := trace.NoParams(u); err != nil {
		return nil, err
	}
	c := *u
	c.Scheme = strings.TrimPrefix(u.Scheme, "zipkin+")
	if c.Path == "" || c.Path == "/" {
		c.Path = "/api/v2/spans"
	}
	return New(c.String())
}

// Exporter posts batches of spans to a collector's /api/v2/spans endpoint.
// It is safe for concurrent use.
type Exporter struct {
	url        string
	client     *http.Client
	ownsClient bool
	lastSize   atomic.Int64 // bytes of the last body
}

// As sets *i to the exporter's HTTP client when i is a **http.Client, for
// Tracer.As.
func (e *Exporter) As(i any) bool {
	if p, ok := i.(**http.Client); ok {
		*p = e.client
		return true
	}
	return false
}

// Option configures an Exporter.
type Option func(*Exporter)

// WithHTTPClient sends with c instead of a client of the exporter's own;
// Close leaves c alone. Its Timeout, if any, adds to the tracer's export
// timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(e *Exporter) { e.client, e.ownsClient = c, false }
}

// New returns an exporter that posts to spansURL, a collector's
// http(s)://host:port/api/v2/spans.
func New(spansURL string, opts ...Option) (*Exporter, error) {
	u, err := url.Parse(spansURL)
	if err != nil {
		return nil, fmt.Errorf("zipkintrace: collector URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("zipkintrace: collector URL %q: want http(s)://host:port/api/v2/spans", u.Redacted())
	}
	e := &Exporter{url: u.String(), ownsClient: true}
	for _, opt := range opts {
		opt(e)
	}
	if e.client == nil {
		e.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		e.ownsClient = true
	}
	return e, nil
}

// StatusError is a collector's answer other than 2xx.
type StatusError struct {
	Code int
	Body string // the start of the answer, for the log
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("collector answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// Export posts one batch as Zipkin v2 JSON.
func (e *Exporter) Export(ctx context.Context, spans []*trace.SpanData) error {
	// A fresh body per batch, sized by the last one: the transport may
	// still hold a body after Do returns, so it is never reused.
	body := appendSpans(make([]byte, 0, e.lastSize.Load()+512), spans)
	e.lastSize.Store(int64(len(body)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return trace.Rejected(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return trace.Unavailable(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		return nil
	}
	serr := &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
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

// zipkinNames maps OpenTelemetry's semantic-convention attribute names,
// which the go-os wrappers set, to the tag names of Zipkin's conventions
// (what Zipkin's UI and Brave's instrumentation use).
var zipkinNames = map[string]string{
	"http.request.method":       "http.method",
	"url.path":                  "http.path",
	"url.full":                  "http.url",
	"http.response.status_code": "http.status_code",
	"rpc.grpc.status_code":      "grpc.status_code",
}

// grpcCodes are gRPC's status code names (Zipkin's grpc.status_code
// carries the name: "OK", "NOT_FOUND" in Brave; grpc-go's spelling here).
var grpcCodes = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
	"Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func zipkinTag(t trace.Tag) (key, value string) {
	k, ok := zipkinNames[t.Key]
	if !ok {
		return t.Key, t.Value
	}
	if k == "grpc.status_code" {
		if n, err := strconv.Atoi(t.Value); err == nil && n >= 0 && n < len(grpcCodes) {
			return k, grpcCodes[n]
		}
	}
	return k, t.Value
}
