package statsdmetrics

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Option configures a Driver.
type Option func(*options)

type options struct {
	format     TagFormat
	interval   time.Duration
	maxPacket  int
	sampleRate float64
	maxValues  int
}

func defaults() options {
	return options{format: Datadog, interval: time.Second, maxPacket: 1432, sampleRate: 1, maxValues: 1000}
}

func (o options) validate() error {
	switch {
	case o.format < Influx || o.format > Graphite:
		return fmt.Errorf("statsd: unknown tag format %v", o.format)
	case o.interval <= 0:
		return fmt.Errorf("statsd: flush interval %v: want > 0", o.interval)
	case o.maxPacket < 64 || o.maxPacket > 65507:
		// Over 65,507 bytes no UDP datagram fits: every flush would fail.
		return fmt.Errorf("statsd: packet size %d: want 64 to 65507 bytes", o.maxPacket)
	case !(o.sampleRate > 0 && o.sampleRate <= 1):
		return fmt.Errorf("statsd: sample rate %v: want 0 < rate ≤ 1", o.sampleRate)
	case o.maxValues < 1:
		return fmt.Errorf("statsd: max values %d: want ≥ 1", o.maxValues)
	}
	return nil
}

// WithTagFormat sets how tags are written (Datadog without it).
func WithTagFormat(f TagFormat) Option { return func(o *options) { o.format = f } }

// WithFlushInterval sets how often aggregated values are sent (1 s
// without it). Shorter intervals send more packets; longer ones lose more
// on a crash.
func WithFlushInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithMaxPacketSize sets the largest UDP payload, in bytes (1432 without
// it: an Ethernet MTU of 1500 less the IP and UDP headers, with room for
// options). Use 8932 on a jumbo-frame network, up to 65467 on loopback.
func WithMaxPacketSize(n int) Option { return func(o *options) { o.maxPacket = n } }

// WithSampleRate keeps each histogram and timer observation with
// probability rate and tells the daemon so (|@rate), for very hot paths.
// Counters and gauges are never sampled: they are aggregated instead.
func WithSampleRate(rate float64) Option { return func(o *options) { o.sampleRate = rate } }

// WithMaxValues bounds the values a histogram or timer series buffers per
// flush interval (1000 without it). Past it a uniform sample of that many
// is kept and sent with the matching sample rate.
func WithMaxValues(n int) Option { return func(o *options) { o.maxValues = n } }

// optionsFromQuery reads the statsd:// URL's parameters: tags, interval,
// max_packet, sample_rate, max_values.
func optionsFromQuery(q url.Values) ([]Option, error) {
	var opts []Option
	for k, vs := range q {
		v := vs[0]
		switch k {
		case "tags":
			f, err := ParseTagFormat(v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, WithTagFormat(f))
		case "interval":
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("interval=%q: %w", v, err)
			}
			opts = append(opts, WithFlushInterval(d))
		case "max_packet", "max_values":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q: want an integer", k, v)
			}
			if k == "max_packet" {
				opts = append(opts, WithMaxPacketSize(n))
			} else {
				opts = append(opts, WithMaxValues(n))
			}
		case "sample_rate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("sample_rate=%q: want a number", v)
			}
			opts = append(opts, WithSampleRate(r))
		default:
			return nil, fmt.Errorf("unknown parameter %q (want tags, interval, max_packet, sample_rate, max_values)", k)
		}
	}
	return opts, nil
}
