package statsdmetrics_test

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/metrics"
)

// readEtsy reads the counters, gauges and timers the Etsy daemon holds
// through its admin port and returns them as a Snapshot: "name;k=v" keys
// become labels, timer values in milliseconds become seconds for the
// metrics m defined as timers.
func readEtsy(t *testing.T, admin string, m *metrics.Metrics) metrics.Snapshot {
	t.Helper()
	kinds := map[string]metrics.Kind{}
	for _, d := range m.Descs() {
		kinds[d.Name] = d.Kind
	}
	var snap metrics.Snapshot
	for _, cmd := range []string{"counters", "gauges", "timers"} {
		for key, raw := range parseInspect(etsyAdmin(t, admin, cmd)) {
			parts := strings.Split(key, ";")
			p := metrics.Point{Name: parts[0]}
			for _, kv := range parts[1:] {
				k, v, _ := strings.Cut(kv, "=")
				p.Labels = append(p.Labels, metrics.Label{Key: k, Value: v})
			}
			switch cmd {
			case "counters":
				p.Kind, p.Value = metrics.KindCounter, num(raw)
			case "gauges":
				p.Kind, p.Value = metrics.KindGauge, num(raw)
			case "timers":
				p.Kind = kinds[p.Name]
				scale := 1.0
				if p.Kind == metrics.KindTimer {
					scale = 1000
				}
				for _, v := range strings.FieldsFunc(strings.Trim(raw, "[] \n"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
					p.Count++
					p.Sum += num(v) / scale
				}
			}
			snap = append(snap, p)
		}
	}
	snap.Sort()
	return snap
}

func num(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}

// inspectEntry matches one 'key': value of node's util.inspect output, the
// value a number or an array.
var inspectEntry = regexp.MustCompile(`'([^']*)':\s*(\[[^\]]*\]|[^,\n}]+)`)

func parseInspect(dump string) map[string]string {
	out := map[string]string{}
	for _, m := range inspectEntry.FindAllStringSubmatch(dump, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// etsyAdmin sends one admin command and returns the answer up to END.
func etsyAdmin(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("etsy admin %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) == "END" || err != nil {
			return b.String()
		}
		b.WriteString(line)
	}
}
