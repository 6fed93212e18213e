// Package redisurl makes go-redis clients from the URLs every Redis
// adapter accepts (kv/rediskv, log/redislog), so that one URL means one
// connection whichever package reads it.
package redisurl

import (
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Schemes are the URL schemes Client understands.
var Schemes = []string{"redis", "rediss", "redis+cluster", "rediss+cluster"}

// Client makes the client u names:
//
//	redis://[user:password@]host:port/db?options     (rediss:// for TLS)
//	redis+cluster://host1:port1,host2:port2?options  (rediss+cluster://)
//
// with go-redis's URL options (dial_timeout, read_timeout, pool_size, ...;
// an unknown one is an error). A Cluster's seeds are the comma-separated
// hosts, or go-redis's addr= parameters. ContextTimeoutEnabled is set, so
// that every call ends by its ctx's deadline, even against a hung server.
func Client(u *url.URL) (redis.UniversalClient, error) {
	if !strings.HasSuffix(u.Scheme, "+cluster") {
		opt, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, err
		}
		opt.ContextTimeoutEnabled = true
		return redis.NewClient(opt), nil
	}
	hosts := strings.Split(u.Host, ",")
	v := *u
	v.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
	v.Host = hosts[0]
	q := v.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	v.RawQuery = q.Encode()
	opt, err := redis.ParseClusterURL(v.String())
	if err != nil {
		return nil, err
	}
	opt.ContextTimeoutEnabled = true
	return redis.NewClusterClient(opt), nil
}

// As is the As(any) bool escape hatch of every go-os type over go-redis:
// it fills a *redis.UniversalClient with c, and a **redis.Client or
// **redis.ClusterClient when c is one.
func As(c redis.UniversalClient, target any) bool {
	switch t := target.(type) {
	case *redis.UniversalClient:
		*t = c
		return true
	case **redis.Client:
		cc, ok := c.(*redis.Client)
		if ok {
			*t = cc
		}
		return ok
	case **redis.ClusterClient:
		cc, ok := c.(*redis.ClusterClient)
		if ok {
			*t = cc
		}
		return ok
	}
	return false
}
