package redact_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/microos/go-os/internal/redact"
)

// The cache answers what Keys.Secret answers, for constants, for keys
// built at run time (new addresses, the same texts), for prefixes that
// share a constant's address, and while goroutines race to fill slots.
func TestKeyCacheAgreesWithKeys(t *testing.T) {
	keys := redact.NewKeys("X-Internal")
	c := redact.NewKeyCache(keys)
	base := "passwordmethodtokenroute_x-internalsession"
	var all []string
	for i := 0; i <= len(base); i++ {
		for j := i; j <= len(base); j++ {
			all = append(all, base[i:j]) // substrings share base's bytes
		}
	}
	all = append(all, "AWS_SECRET_ACCESS_KEY", "method", "route", "quo\"te", "")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				for _, k := range all {
					if round%2 == g%2 {
						k = strings.Clone(k) // a new address for the same text
					}
					secret, plain := c.Lookup(k)
					if secret != keys.Secret(k) || plain != !strings.ContainsAny(k, "\"\\") {
						t.Errorf("Lookup(%q) = %v, %v; Secret says %v", k, secret, plain, keys.Secret(k))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
