package router

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/microos/go-os/discovery"
)

// Open returns a router over the discovery backend the URL names (any URL
// discovery.Open takes: mem://, consul://host:port, ...), configured by
// query parameters of its own, which it removes before opening discovery:
//
//	strategy=p2c|round_robin|random|least_outstanding|weighted|hash
//	version=v1[,v2]     route only to these versions (WithVersion)
//	label=key:value     route only to nodes with this metadata (repeatable, WithLabels)
//	zone=Z              prefer the nodes of zone Z (PreferZone)
//	panic=1             route to ejected nodes when all are (WithPanicRouting)
//
// Options given after the URL override it. Close closes the registry too.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Router, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("router: open: %w", err)
	}
	own, err := parseQuery(u)
	if err != nil {
		return nil, fmt.Errorf("router: open %q: %w", u.Redacted(), err)
	}
	reg, err := discovery.Open(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	r := New(reg, append(own, opts...)...)
	r.closer = reg
	return r, nil
}

// parseQuery takes the router's parameters out of u's query.
func parseQuery(u *url.URL) ([]Option, error) {
	q := u.Query()
	var opts []Option
	if name := q.Get("strategy"); name != "" {
		s, ok := Strategies()[name]
		if !ok {
			return nil, fmt.Errorf("unknown strategy %q (want one of %v)", name, slices.Sorted(maps.Keys(Strategies())))
		}
		opts = append(opts, WithStrategy(s))
	}
	if v := q.Get("version"); v != "" {
		opts = append(opts, WithVersion(strings.Split(v, ",")...))
	}
	if labels := q["label"]; len(labels) > 0 {
		m := make(map[string]string, len(labels))
		for _, l := range labels {
			k, v, ok := strings.Cut(l, ":")
			if !ok || k == "" {
				return nil, fmt.Errorf("label %q: want key:value", l)
			}
			m[k] = v
		}
		opts = append(opts, WithLabels(m))
	}
	if z := q.Get("zone"); z != "" {
		opts = append(opts, PreferZone(z))
	}
	if p := q.Get("panic"); p != "" {
		on, err := strconv.ParseBool(p)
		if err != nil {
			return nil, fmt.Errorf("panic=%q: want a boolean", p)
		}
		if on {
			opts = append(opts, WithPanicRouting())
		}
	}
	for _, k := range []string{"strategy", "version", "label", "zone", "panic"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return opts, nil
}
