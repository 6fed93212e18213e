package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// A Decoder parses one document into a tree. It is given the whole
// document and must not keep data.
type Decoder func(data []byte) (map[string]any, error)

var formats = struct {
	sync.RWMutex
	byName map[string]Decoder
	byExt  map[string]string
}{byName: map[string]Decoder{}, byExt: map[string]string{}}

func init() {
	RegisterFormat("json", decodeJSON, ".json")
}

// RegisterFormat makes name (and files with the extensions, like ".yaml")
// decodable by File, Decode and the sources that hold documents. JSON is
// built in; importing config/yamlconfig registers yaml (.yaml, .yml) and
// config/tomlconfig registers toml (.toml). It panics if name is taken.
func RegisterFormat(name string, decode Decoder, exts ...string) {
	formats.Lock()
	defer formats.Unlock()
	if _, dup := formats.byName[name]; dup {
		panic(fmt.Sprintf("config: format %q registered twice", name))
	}
	formats.byName[name] = decode
	for _, e := range exts {
		formats.byExt[strings.ToLower(e)] = name
	}
}

// FormatOf returns the format registered for path's extension.
func FormatOf(path string) (string, bool) {
	formats.RLock()
	defer formats.RUnlock()
	name, ok := formats.byExt[strings.ToLower(filepath.Ext(path))]
	return name, ok
}

// Decode parses a document of the named format. Malformed input, an empty
// document (a file caught half-written, truncated to zero) and a document
// that is not a map at the top are errors wrapping ErrParse; a decoder that
// panics is one too.
func Decode(format string, data []byte) (tree map[string]any, err error) {
	formats.RLock()
	decode := formats.byName[format]
	formats.RUnlock()
	if decode == nil {
		return nil, fmt.Errorf("%w: no decoder for format %q (registered: %v; import config/yamlconfig or config/tomlconfig?)", ErrParse, format, formatNames())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty %s document (write {} for no values)", ErrParse, format)
	}
	defer func() {
		if r := recover(); r != nil {
			tree, err = nil, fmt.Errorf("%w: %s decoder panicked: %v", ErrParse, format, r)
		}
	}()
	tree, err = decode(data)
	if err != nil {
		return nil, Wrap(ErrParse, err)
	}
	if tree == nil {
		return nil, fmt.Errorf("%w: %s document is null, not a map", ErrParse, format)
	}
	// Normalised here, so that whatever Decode accepts a Config accepts
	// (a number out of range is a parse error, not a surprise later).
	return normalizeTree(tree)
}

func formatNames() []string {
	formats.RLock()
	defer formats.RUnlock()
	names := make([]string, 0, len(formats.byName))
	for n := range formats.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func decodeJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the top-level value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top-level value is %s, not an object", describe(v))
	}
	return m, nil
}
