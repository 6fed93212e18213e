package metricsbench

import (
	"bytes"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cactus "github.com/cactus/go-statsd-client/v5/statsd"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

// The statsd comparisons run one workload on both sides: n records of
// the same metric (requests_total, or request_duration_seconds for the
// timer, tags route:/a and class:2xx in the DogStatsD format, the same
// sample rate), a flush every flushEvery records on the recording
// goroutine where a side has one to call, and Close at the end, inside
// the timed region on both sides (it sends what is left). The cost per
// record is therefore end to end: recording, formatting, packets written
// to the same kind of UDP socket. TestStatsdSameWork reads what each side
// put on the wire and checks that the daemon would hold the same values.
const flushEvery = 1000

var (
	cactusTags = []cactus.Tag{{"route", "/a"}, {"class", "2xx"}}
	timerRate  = 0.1
)

// side is one side of a statsd comparison.
type side struct {
	record func(i int)
	flush  func() // nil: the side sends as it records
	close  func() error
}

func (s side) run(n int) error {
	for i := range n {
		s.record(i)
		if s.flush != nil && (i+1)%flushEvery == 0 {
			s.flush()
		}
	}
	return s.close()
}

// timerValue is the i-th duration recorded: whole milliseconds, which both
// sides format the same ("7|ms").
func timerValue(i int) time.Duration { return time.Duration(i%10+1) * time.Millisecond }

func oursStatsd(tb testing.TB, addr string, opts ...statsdmetrics.Option) (*statsdmetrics.Driver, *metrics.Metrics) {
	// The flush loop's interval is an hour: flushes happen where the
	// workload calls them, as on the peer's side.
	d, err := statsdmetrics.New(addr, append([]statsdmetrics.Option{statsdmetrics.WithTagFormat(statsdmetrics.Datadog), statsdmetrics.WithFlushInterval(time.Hour)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return d, metrics.New(d)
}

// oursCounter: the statsd driver's counter, bound once, summed in process
// and sent as one line per flush.
func oursCounter(tb testing.TB, addr string) side {
	d, m := oursStatsd(tb, addr)
	c := m.Counter("requests_total", metrics.Labels("route", "class")).With("route", "/a", "class", "2xx")
	return side{record: func(int) { c.Inc() }, flush: d.Flush, close: m.Close}
}

// cactusAggregated: what a cactus user writes to aggregate: an atomic
// total, handed to the client as one Inc per flush. For the like-for-like
// row the client is the unbuffered one, because a flush must send now, as
// ours does: both sides write one packet of one line per flush. (Cactus's
// buffered sender has no Flush: behind the same aggregation its lines
// wait for its 300 ms ticker or Close and leave in fewer packets, the
// extra row.)
func cactusAggregated(tb testing.TB, addr string) side {
	return aggregatedOn(cactusClient(tb, addr, false))
}

func cactusAggregatedBuffered(tb testing.TB, addr string) side {
	return aggregatedOn(cactusClient(tb, addr, true))
}

func aggregatedOn(c cactus.Statter) side {
	var total atomic.Int64
	flush := func() {
		if v := total.Swap(0); v != 0 {
			c.Inc("requests_total", v, 1, cactusTags...)
		}
	}
	return side{
		record: func(int) { total.Add(1) },
		flush:  flush,
		close:  func() error { flush(); return c.Close() },
	}
}

// cactusLines: cactus as documented, one Inc (one line) per record.
func cactusLines(buffered bool) func(testing.TB, string) side {
	return func(tb testing.TB, addr string) side {
		c := cactusClient(tb, addr, buffered)
		return side{record: func(int) { c.Inc("requests_total", 1, 1, cactusTags...) }, close: c.Close}
	}
}

// oursTimer: the statsd driver's timer at sample rate 0.1: the values
// kept are buffered and sent as one line each at the flush.
func oursTimer(tb testing.TB, addr string) side {
	d, m := oursStatsd(tb, addr, statsdmetrics.WithSampleRate(timerRate))
	t := m.Timer("request_duration_seconds", metrics.Labels("route", "class")).With("route", "/a", "class", "2xx")
	return side{record: func(i int) { t.Observe(timerValue(i)) }, flush: d.Flush, close: m.Close}
}

// cactusTimer: cactus's buffered client, TimingDuration at sample rate
// 0.1: the same lines, batched into packets of the same 1432 bytes.
func cactusTimer(tb testing.TB, addr string) side {
	c := cactusClient(tb, addr, true)
	return side{record: func(i int) {
		c.TimingDuration("request_duration_seconds", timerValue(i), float32(timerRate), cactusTags...)
	}, close: c.Close}
}

func cactusClient(tb testing.TB, addr string, buffered bool) cactus.Statter {
	c, err := cactus.NewClientWithConfig(&cactus.ClientConfig{Address: addr, UseBuffered: buffered, TagFormat: cactus.SuffixOctothorpe})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// bench times a side's whole workload, Close included.
func bench(addr string, mk func(testing.TB, string) side) func(*testing.B) {
	return func(b *testing.B) {
		s := mk(b, addr)
		b.ReportAllocs()
		b.ResetTimer()
		if err := s.run(b.N); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
	}
}

type statsdCase struct {
	name       string
	ours, peer func(testing.TB, string) side
	n          int
	// same says what both sides must have put on the wire.
	same func(t *testing.T, n int, ours, peer wire)
	goal float64
}

var statsdCases = []statsdCase{
	{
		name: "statsd Inc aggregated, flush/1000 vs cactus", ours: oursCounter, peer: cactusAggregated, n: 5000,
		same: func(t *testing.T, n int, ours, peer wire) {
			sameTotals(t, n, ours, peer)
			// one packet of one line per flush, on both sides
			if ours.packets != n/flushEvery || peer.packets != n/flushEvery || !slices.Equal(ours.lines, peer.lines) {
				t.Errorf("packets ours %d, peer %d, want %d each; lines ours %q, peer %q", ours.packets, peer.packets, n/flushEvery, ours.lines, peer.lines)
			}
		},
		// Recording is one atomic add on both sides and the flush the same
		// cactus call; 1.5 leaves room for a loaded machine.
		goal: 1.5,
	},
	{
		name: "statsd timer @0.1, flush/1000 vs cactus buf.", ours: oursTimer, peer: cactusTimer, n: 20000,
		same: func(t *testing.T, n int, ours, peer wire) {
			for name, w := range map[string]wire{"ours": ours, "peer": peer} {
				keys := w.keys()
				if len(keys) != 1 || keys[0] != "request_duration_seconds|ms|@0.100000|#route:/a,class:2xx" {
					t.Errorf("%s sent %v", name, keys)
				}
				// about n·0.1 sampled values, 1 ms to 10 ms: a binomial
				// count within 5 standard deviations (σ = 42 for 20000)
				if got := len(w.lines); got < n/10-250 || got > n/10+250 {
					t.Errorf("%s sent %d timer values, want about %d", name, got, n/10)
				}
				for _, l := range w.lines {
					if v, _ := strconv.Atoi(l[strings.IndexByte(l, ':')+1 : strings.IndexByte(l, '|')]); v < 1 || v > 10 {
						t.Fatalf("%s sent %q", name, l)
					}
				}
			}
		},
		// The same lines on the wire; ours samples, then buffers under a
		// lock and formats at the flush, cactus formats and buffers
		// under a lock per sampled value.
		goal: 1.5,
	},
	{
		// The same lines; cactus's buffer holds them until Close (fewer
		// packets, no write per flush).
		name: "extra: statsd Inc aggr. vs aggr.+cactus buf.", ours: oursCounter, peer: cactusAggregatedBuffered, n: 5000,
		same: func(t *testing.T, n int, ours, peer wire) {
			sameTotals(t, n, ours, peer)
			if ours.packets != n/flushEvery || peer.packets > ours.packets || !slices.Equal(ours.lines, peer.lines) {
				t.Errorf("packets ours %d (want %d), peer %d (want at most ours); lines ours %q, peer %q", ours.packets, n/flushEvery, peer.packets, ours.lines, peer.lines)
			}
		},
	},
	{
		// Not like for like: ours sends one line per flush, cactus one
		// line per record; the daemon ends with the same totals.
		name: "extra: statsd Inc aggr. vs cactus buf. lines", ours: oursCounter, peer: cactusLines(true), n: 5000,
		same: func(t *testing.T, n int, ours, peer wire) { sameTotals(t, n, ours, peer) },
	},
	{
		name: "extra: statsd Inc aggr. vs cactus unbuf.", ours: oursCounter, peer: cactusLines(false), n: 5000,
		same: func(t *testing.T, n int, ours, peer wire) { sameTotals(t, n, ours, peer) },
	},
}

// sameTotals: the daemon ends with requests_total = n on both sides, under
// the same name and tags.
func sameTotals(t *testing.T, n int, ours, peer wire) {
	t.Helper()
	for name, w := range map[string]wire{"ours": ours, "peer": peer} {
		keys := w.keys()
		if len(keys) != 1 || keys[0] != "requests_total|c|#route:/a,class:2xx" {
			t.Errorf("%s sent %v", name, keys)
		}
		if got := w.sum(); got != int64(n) {
			t.Errorf("%s: the daemon would count %d, want %d", name, got, n)
		}
	}
}

// wire is what a side sent: every line, and how many packets.
type wire struct {
	lines   []string
	packets int
}

// keys are the distinct name|type|rate|tags of the lines.
func (w wire) keys() []string {
	var out []string
	for _, l := range w.lines {
		name, rest, _ := strings.Cut(l, ":")
		_, meta, _ := strings.Cut(rest, "|")
		k := name + "|" + meta
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// sum adds the counter values.
func (w wire) sum() int64 {
	var n int64
	for _, l := range w.lines {
		_, rest, _ := strings.Cut(l, ":")
		v, _, _ := strings.Cut(rest, "|")
		i, _ := strconv.ParseInt(v, 10, 64)
		n += i
	}
	return n
}

// capture runs a side's workload against a socket it reads, and returns
// what arrived. A last packet from the test's own socket marks the end:
// on loopback a datagram is queued to the receiver before the sender's
// write returns, so everything Close sent is ahead of it.
func capture(t *testing.T, mk func(testing.TB, string) side, n int) wire {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(4 << 20)
	var (
		mu   sync.Mutex
		got  wire
		done = make(chan struct{})
	)
	const end = "__end__"
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			k, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if string(buf[:k]) == end {
				return
			}
			mu.Lock()
			got.packets++
			for _, l := range bytes.Split(buf[:k], []byte("\n")) {
				if len(l) > 0 {
					got.lines = append(got.lines, string(l))
				}
			}
			mu.Unlock()
		}
	}()
	if err := mk(t, conn.LocalAddr().String()).run(n); err != nil {
		t.Fatal(err)
	}
	marker, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	if _, err := marker.Write([]byte(end)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the end marker never arrived")
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// Both sides of every statsd comparison put the same values on the wire:
// what makes the ratios comparable. It runs under -short too.
func TestStatsdSameWork(t *testing.T) {
	for _, c := range statsdCases {
		t.Run(c.name, func(t *testing.T) {
			ours, peer := capture(t, c.ours, c.n), capture(t, c.peer, c.n)
			c.same(t, c.n, ours, peer)
			t.Logf("n=%d: ours %d lines in %d packets, peer %d lines in %d packets", c.n, len(ours.lines), ours.packets, len(peer.lines), peer.packets)
		})
	}
}
