// Package yamlconfig registers the YAML format with package config, on
// go.yaml.in/yaml/v3: importing it (blank) makes config.NewFile read .yaml
// and .yml files and config.Decode("yaml", ...) work.
//
//	import _ "github.com/microos/go-os/config/yamlconfig"
//
//	src := config.NewFile("/etc/billing/app.yaml")
//
// Only the first document of a stream is read. Anchors and aliases work;
// the decoder's limit on alias expansion guards against documents that
// expand exponentially.
package yamlconfig

import (
	"go.yaml.in/yaml/v3"

	"github.com/microos/go-os/config"
)

func init() {
	config.RegisterFormat("yaml", Decode, ".yaml", ".yml")
}

// Decode parses a YAML document whose top level is a map.
func Decode(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}
