package statsdmetrics

import (
	"strings"
	"testing"

	"github.com/cactus/go-statsd-client/v5/statsd"
)

type captureSender struct{ lines []string }

func (c *captureSender) Send(b []byte) (int, error) {
	c.lines = append(c.lines, string(b))
	return len(b), nil
}
func (c *captureSender) Close() error { return nil }

// line formats one counter line with tags key=value in format f, the way
// the driver does.
func line(t *testing.T, f TagFormat, tags []labelPair, keys, values []string) string {
	t.Helper()
	s := &captureSender{}
	c, err := statsd.NewClientWithSender(s, "", f.cactus())
	if err != nil {
		t.Fatal(err)
	}
	c.Inc("svc.n", 1, 1, f.tags(tags, keys, values)...)
	return s.lines[0]
}

// parse reads a line back the way the daemons of each format do, and
// returns its name, tags and value part; ok is false if the line is broken.
func parse(f TagFormat, l string) (name string, tags map[string]string, value string, ok bool) {
	if strings.ContainsAny(l, "\n\r") {
		return "", nil, "", false
	}
	tags = map[string]string{}
	var head, tagPart, sep, kvSep string
	switch f {
	case Datadog:
		main, tagStr, hasTags := strings.Cut(l, "|#")
		if strings.Contains(tagStr, "|") {
			return "", nil, "", false
		}
		n, v, found := strings.Cut(main, ":")
		if !found || strings.Contains(v, ":") {
			return "", nil, "", false
		}
		name, value = n, v
		if hasTags {
			tagPart, sep, kvSep = tagStr, ",", ":"
		}
	case Influx, Graphite:
		var found bool
		head, value, found = strings.Cut(l, ":")
		if !found || strings.Contains(value, ":") {
			return "", nil, "", false
		}
		sep, kvSep = ",", "="
		if f == Graphite {
			sep = ";"
		}
		name, tagPart, _ = strings.Cut(head, sep)
	}
	if tagPart != "" {
		for _, kv := range strings.Split(tagPart, sep) {
			k, v, found := strings.Cut(kv, kvSep)
			if !found || k == "" || v == "" || strings.Contains(v, kvSep) && f != Datadog {
				return "", nil, "", false
			}
			tags[k] = v
		}
	}
	return name, tags, value, value == "1|c"
}

func FuzzTagValue(f *testing.F) {
	for _, s := range []string{"plain", "", "a|b:c#d,e=f;g h\nx:1|c", "é/ü", "\xff\xfe", "@0.5", "|#k:v"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, tag, label string) {
		for _, format := range []TagFormat{Datadog, Influx, Graphite} {
			l := line(t, format, []labelPair{{"host", tag}}, []string{"route"}, []string{label})
			name, tags, _, ok := parse(format, l)
			if !ok || name != "svc.n" {
				t.Fatalf("%v: %q broke the line protocol: %q", format, []string{tag, label}, l)
			}
			for k, in := range map[string]string{"host": tag, "route": label} {
				want := format.SanitizeTagValue(in)
				if tags[k] != want {
					t.Fatalf("%v: tag %s=%q read back as %q from %q", format, k, want, tags[k], l)
				}
				if want == "" && in != "" {
					t.Fatalf("%v: non-empty %q sanitised to nothing", format, in)
				}
			}
			if format == Graphite {
				for i := 0; i < len(l); i++ {
					if c := l[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.;=-/:|", c) >= 0) {
						t.Fatalf("graphite line %q has %q, which the Etsy daemon drops", l, c)
					}
				}
			}
		}
	})
}

func TestParseTagFormat(t *testing.T) {
	for in, want := range map[string]TagFormat{"influx": Influx, "telegraf": Influx, "DogStatsD": Datadog, "": Datadog, "graphite": Graphite} {
		if got, err := ParseTagFormat(in); err != nil || got != want {
			t.Errorf("ParseTagFormat(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTagFormat("carbon"); err == nil {
		t.Error("ParseTagFormat(carbon) accepted")
	}
}
