package trace

import (
	"context"
	"fmt"
	"net/url"

	"github.com/microos/go-os/internal/urlopen"
	"github.com/microos/go-os/oserr"
)

var backends = urlopen.New[Exporter]("trace")

func init() {
	Register("mem", func(_ context.Context, u *url.URL) (Exporter, error) {
		if err := NoParams(u); err != nil {
			return nil, err
		}
		return NewRecorder(), nil
	})
}

// ErrBadURL: Open was given a URL it does not understand (an unknown
// scheme parameter, a bad sampler). Its class is oserr.Invalid.
var ErrBadURL = oserr.New(oserr.Invalid, "trace: bad URL")

// NoParams is what an adapter without URL parameters of its own calls
// from its opener: it refuses every query parameter left after Open took
// service and sampler, so a misspelt one is an error, not silently ignored.
func NoParams(u *url.URL) error {
	for k := range u.Query() {
		return fmt.Errorf("%w: %s: unknown parameter %q (known: service, sampler)", ErrBadURL, u.Scheme, k)
	}
	return nil
}

// Register makes Open understand scheme. Adapters call it from init:
// importing trace/zipkintrace registers zipkin+http and zipkin+https. It
// panics if the scheme is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Exporter, error)) {
	backends.Register(scheme, open)
}

// Open returns a Tracer for the backend the URL names, so that an
// application picks its backend with one string:
//
//	mem://                                      (spans kept in a Recorder: tr.Exporter().(*trace.Recorder))
//	zipkin+http://host:9411/api/v2/spans        (zipkin+https:// for TLS)
//	otlp+http://host:4318                       (OTLP/HTTP protobuf; otlp+https:// for TLS)
//	otlp+grpc://host:4317                       (OTLP/gRPC without TLS)
//
// Two query parameters work on every scheme and are taken out before the
// backend sees the URL: service=NAME is WithService(NAME, "", ""), and
// sampler=always|never|0.25|100/s is WithSampler (see ParseSampler). Options
// given to Open come after them and win. Any other parameter is refused
// with ErrBadURL unless the backend knows it (zipkin and otlp know none).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Tracer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("trace: open: %w", err)
	}
	q := u.Query()
	var pre []Option
	if v := q.Get("service"); v != "" {
		pre = append(pre, WithService(v, "", ""))
		q.Del("service")
	}
	if v := q.Get("sampler"); v != "" {
		s, err := ParseSampler(v)
		if err != nil {
			return nil, fmt.Errorf("%w: open %q: %w", ErrBadURL, u.Redacted(), err)
		}
		pre = append(pre, WithSampler(s))
		q.Del("sampler")
	}
	u.RawQuery = q.Encode()
	exp, err := backends.OpenURL(ctx, u)
	if err != nil {
		return nil, err
	}
	return New(exp, append(pre, opts...)...), nil
}
