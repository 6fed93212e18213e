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

// redactURL masks the password of a URL such as redis://u:pw@host, which
// hides secrets under innocent keys like "dsn".
func redactURL(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	return u.Redacted()
}
