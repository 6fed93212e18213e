package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/microos/go-os/internal/redact"
)

// Snapshot is one immutable version of the merged configuration. A Config
// swaps whole snapshots atomically on reload, so everything read from one
// snapshot is consistent: read several related values from one Snapshot
// rather than from the Config one at a time. Safe for concurrent use.
type Snapshot struct {
	root     map[string]any
	version  uint64
	loadedAt time.Time
	secrets  *redact.Keys
}

// Get returns the value at path: Get("db", "pool") is the key pool of the
// map db. An empty path is the whole tree. A path that leads nowhere gives a
// Value whose getters return their default.
func (s *Snapshot) Get(path ...string) Value {
	var cur any = s.root
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return Value{}
		}
		if cur, ok = m[k]; !ok {
			return Value{}
		}
	}
	return Value{v: cur, ok: true}
}

// Scan decodes the value at path into dst, a pointer, following its json
// struct tags; strings convert to numbers, booleans and durations as the
// typed getters do. See Value.Scan.
func (s *Snapshot) Scan(dst any, path ...string) error {
	v := s.Get(path...)
	if !v.ok {
		return fmt.Errorf("%w: nothing at %s", ErrNotFound, strings.Join(path, "."))
	}
	return decode(v.v, dst, strings.Join(path, "."))
}

// Version counts the snapshots the Config published: 1 for the first.
func (s *Snapshot) Version() uint64 { return s.version }

// LoadedAt is when the snapshot was published.
func (s *Snapshot) LoadedAt() time.Time { return s.loadedAt }

// Redacted returns a copy of the whole tree in which the values of
// keys holding a secret word anywhere (password, AWS_SECRET_ACCESS_KEY,
// api-key, ...: redact.DefaultWords and WithSecretKeys) are replaced by
// "[REDACTED]", and passwords in URLs and DSNs and bearer tokens in string
// values are masked, for logs and debug pages. It is the rule log's
// RedactHandler applies too.
func (s *Snapshot) Redacted() map[string]any {
	return redactMap(s.root, s.secrets)
}

// String is the redacted tree as JSON, so printing a snapshot never leaks a
// secret.
func (s *Snapshot) String() string {
	b, err := json.Marshal(s.Redacted())
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}
