package metrics

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/microos/go-os/internal/urlopen"
)

var backends = urlopen.New[Driver]("metrics")

func init() {
	Register("mem", func(_ context.Context, u *url.URL) (Driver, error) {
		if len(u.Query()) > 0 {
			return nil, fmt.Errorf("metrics: mem:// takes no parameters but namespace, tag and max_series, has %q", u.RawQuery)
		}
		return newMemory(), nil
	})
}

// Register makes Open understand scheme. Adapters call it from init:
// importing metrics/statsdmetrics registers statsd, metrics/prometheusmetrics
// registers prometheus. It panics if the scheme is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Driver, error)) {
	backends.Register(scheme, open)
}

// Open returns a Metrics on the backend the URL names, so that an
// application picks its backend with one string:
//
//	mem://                                            values kept in process (Snapshot)
//	statsd://host:port?tags=influx|datadog|graphite   aggregated, batched UDP
//	prometheus://                                     registered with the default registry
//	prometheus://127.0.0.1:9100/metrics               served on that address
//
// These query parameters work on every scheme: namespace=NS (WithNamespace),
// tag=key:value, repeatable (WithTags), max_series=N (WithMaxSeries). The
// others are the backend's. The backend's adapter must be imported (blank,
// if only its URL is used).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Metrics, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("metrics: open: %w", err)
	}
	q := u.Query()
	var fromURL []Option
	if ns := q.Get("namespace"); ns != "" {
		fromURL = append(fromURL, WithNamespace(ns))
	}
	for _, t := range q["tag"] {
		k, v, ok := strings.Cut(t, ":")
		if !ok || k == "" {
			return nil, fmt.Errorf("metrics: open %q: tag=%q: want tag=key:value", u.Redacted(), t)
		}
		fromURL = append(fromURL, WithTags(k, v))
	}
	if s := q.Get("max_series"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("metrics: open %q: max_series=%q: want a positive integer", u.Redacted(), s)
		}
		fromURL = append(fromURL, WithMaxSeries(n))
	}
	for _, k := range []string{"namespace", "tag", "max_series"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	d, err := backends.OpenURL(ctx, u)
	if err != nil {
		return nil, err
	}
	return New(d, append(fromURL, opts...)...), nil
}
