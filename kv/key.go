package kv

import "fmt"

// MaxKeyLen is the longest key, namespace included: memcached's limit,
// applied on every backend.
const MaxKeyLen = 250

// ValidateKey reports why key cannot be stored on every backend, or nil.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("%w: %q has a space or control character at byte %d", ErrInvalidKey, key, i)
		}
	}
	return nil
}
