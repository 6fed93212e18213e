package statsdmetrics

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cactus/go-statsd-client/v5/statsd"
)

// TagFormat is how tags are written into a statsd line.
type TagFormat uint8

const (
	// Influx writes name,k=v,k2=v2:1|c: InfluxDB's Telegraf statsd input
	// and statsd_exporter read it.
	Influx TagFormat = iota + 1
	// Datadog writes name:1|c|#k:v,k2:v2: DogStatsD, the Datadog agent and
	// statsd_exporter read it. The default.
	Datadog
	// Graphite writes name;k=v;k2=v2:1|c: Graphite 1.1 tags, read by the
	// Etsy statsd daemon and carbon.
	Graphite
)

func (f TagFormat) String() string {
	switch f {
	case Influx:
		return "influx"
	case Datadog:
		return "datadog"
	case Graphite:
		return "graphite"
	}
	return fmt.Sprintf("TagFormat(%d)", uint8(f))
}

// ParseTagFormat reads the names Open accepts in tags=: influx (or
// telegraf), datadog (or dogstatsd), graphite.
func ParseTagFormat(s string) (TagFormat, error) {
	switch strings.ToLower(s) {
	case "influx", "influxdb", "telegraf":
		return Influx, nil
	case "datadog", "dogstatsd", "":
		return Datadog, nil
	case "graphite":
		return Graphite, nil
	}
	return 0, fmt.Errorf("statsd tag format %q: want influx, datadog or graphite", s)
}

func (f TagFormat) cactus() statsd.TagFormat {
	switch f {
	case Influx:
		return statsd.InfixComma
	case Graphite:
		return statsd.InfixSemicolon
	}
	return statsd.SuffixOctothorpe
}

// SanitizeTagValue returns v with every byte that would break f's line
// protocol replaced by '_': the separators of statsd itself (':' '|' '@'
// newlines), those of the tag format, spaces, control characters and
// invalid UTF-8. A value is sanitised once, when its series is made.
func (f TagFormat) SanitizeTagValue(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= utf8.RuneSelf || f.breaks(c) {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == utf8.RuneError, r < utf8.RuneSelf && f.breaks(byte(r)):
			b.WriteByte('_')
		case f == Graphite && r >= utf8.RuneSelf:
			// The Etsy daemon drops what is not [A-Za-z0-9_.;=-] from names.
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (f TagFormat) breaks(c byte) bool {
	if c <= ' ' || c == 0x7f || c == ':' || c == '|' || c == '@' || c == ',' || c == '#' {
		return true
	}
	switch f {
	case Influx:
		return c == '=' || c == '\\' || c == '"'
	case Graphite:
		// Graphite forbids ; ~ in values; the Etsy daemon keeps only
		// [A-Za-z0-9_.;=-] in a name, and turns '/' into '-'.
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/')
	}
	return false
}

// tags pairs a series' tags and labels for cactus, sanitised for f, leaving
// out empty values (no format has a way to say "empty").
func (f TagFormat) tags(tags []labelPair, keys, values []string) []statsd.Tag {
	out := make([]statsd.Tag, 0, len(tags)+len(keys))
	for _, t := range tags {
		if v := f.SanitizeTagValue(t.value); v != "" {
			out = append(out, statsd.Tag{t.key, v})
		}
	}
	for i, k := range keys {
		if v := f.SanitizeTagValue(values[i]); v != "" {
			out = append(out, statsd.Tag{k, v})
		}
	}
	return out
}

type labelPair struct{ key, value string }
