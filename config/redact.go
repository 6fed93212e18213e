package config

import (
	"net/url"
	"strings"
)

const mask = "******"

func redactMap(m map[string]any, secrets []string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if isSecret(k, secrets) && v != nil {
			out[k] = mask
			continue
		}
		out[k] = redactValue(v, secrets)
	}
	return out
}

func redactValue(v any, secrets []string) any {
	switch x := v.(type) {
	case map[string]any:
		return redactMap(x, secrets)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, secrets)
		}
		return out
	case string:
		return redactURL(x)
	}
	return v
}

func isSecret(key string, secrets []string) bool {
	k := strings.ToLower(key)
	for _, s := range secrets {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redactURL masks the password of a URL or DSN such as redis://u:pw@host
// or app:pw@tcp(db:3306)/app, which hide secrets under innocent keys like
// "dsn". A password that url.Parse cannot read (one with '#', '/' or '?'
// unescaped, or a DSN without a scheme) is masked by its text: everything
// between the user's ':' and the last '@'.
func redactURL(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 || strings.ContainsAny(s, " \t\n") {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + 3
	}
	colon := strings.IndexByte(s[start:at], ':')
	if colon < 0 {
		return s // a user without a password
	}
	return s[:start+colon+1] + "xxxxx" + s[at:]
}
