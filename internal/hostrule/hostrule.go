// Package hostrule is the one rule by which discovery.Transport and
// router.Transport tell a request for a service (http://orders/...) from a
// request for an outside host, which they leave alone.
package hostrule

import (
	"net/netip"
	"slices"
	"strings"
)

// Service returns the service name that host (a URL's Host: name, name:port,
// IP literal) names, and whether it names one. A host is left alone — ok is
// false — when it is empty, "localhost" (or a name under .localhost), an IP
// literal, has a port (a service name carries none: its nodes' ports come
// from discovery, so host:port is an address), or has a dot (a DNS name such
// as api.example.com). When allow is not empty it is the whole list of
// service names: only those are services, dotted ones included, and every
// other host is left alone. Callers still check the name against their
// own rules (discovery.ValidateName).
func Service(host string, allow []string) (name string, ok bool) {
	// ':' is a port, or an IPv6 literal; '[' an IPv6 literal.
	if host == "" || strings.ContainsAny(host, ":[") {
		return "", false
	}
	if strings.EqualFold(host, "localhost") || hasSuffixFold(host, ".localhost") {
		return "", false
	}
	dotted := strings.IndexByte(host, '.') >= 0
	if len(allow) > 0 {
		if dotted {
			if _, err := netip.ParseAddr(host); err == nil {
				return "", false
			}
		}
		return host, slices.Contains(allow, host)
	}
	if dotted { // a DNS name, or an IPv4 literal
		return "", false
	}
	return host, true
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
