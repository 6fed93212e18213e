// Package tomlconfig registers the TOML format with package config, on
// github.com/pelletier/go-toml/v2: importing it (blank) makes
// config.NewFile read .toml files and config.Decode("toml", ...) work.
//
//	import _ "github.com/microos/go-os/config/tomlconfig"
//
//	src := config.NewFile("/etc/billing/app.toml")
//
// TOML dates and times become strings in RFC 3339 form.
package tomlconfig

import (
	"github.com/pelletier/go-toml/v2"

	"github.com/microos/go-os/config"
)

func init() {
	config.RegisterFormat("toml", Decode, ".toml")
}

// Decode parses a TOML document.
func Decode(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}
