package metricstest

import (
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/internal/promconv"
)

// ParsePrometheusText parses the Prometheus text exposition format with
// Prometheus' own parser and returns its series as a Snapshot: counters,
// gauges and untyped metrics as Value, summaries and histograms as Count
// and Sum. Adapters whose server exposes that format (statsd_exporter, the
// Prometheus handler) read their values back with it.
func ParsePrometheusText(r io.Reader) (metrics.Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	list := make([]*dto.MetricFamily, 0, len(families))
	for _, f := range families {
		list = append(list, f)
	}
	return promconv.Snapshot(list), nil
}

// scrapeClient keeps no idle connection, so that no goroutine outlives a
// scrape (tests check with a leak detector).
var scrapeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// Scrape GETs a Prometheus text page and parses it with ParsePrometheusText.
func Scrape(url string) (metrics.Snapshot, error) {
	resp, err := scrapeClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return ParsePrometheusText(resp.Body)
}
