package config

import "github.com/microos/go-os/internal/redact"

// The redacted dump applies the one go-os redaction rule (package
// internal/redact), which log's RedactHandler applies too: keys holding a
// secret word anywhere, passwords in URLs and DSNs, bearer tokens.

func redactMap(m map[string]any, keys *redact.Keys) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v != nil && keys.Secret(k) {
			out[k] = redact.Mask
			continue
		}
		out[k] = redactValue(v, keys)
	}
	return out
}

func redactValue(v any, keys *redact.Keys) any {
	switch x := v.(type) {
	case map[string]any:
		return redactMap(x, keys)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, keys)
		}
		return out
	case string:
		return redact.String(x)
	}
	return v
}
