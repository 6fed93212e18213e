package statsdmetrics_test

import (
	"errors"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cactus "github.com/cactus/go-statsd-client/v5/statsd"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

// receiver counts the packets and sums the counter lines arriving on a
// UDP socket of its own.
type receiver struct {
	conn    net.PacketConn
	done    chan struct{}
	mu      sync.Mutex
	packets int
	sums    map[string]float64
	all     []string
}

func listen(t testing.TB, addr string) *receiver {
	t.Helper()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// A big receive buffer, so that the unaggregated client's burst is
	// counted rather than dropped by the kernel.
	c.(*net.UDPConn).SetReadBuffer(8 << 20)
	r := &receiver{conn: c, done: make(chan struct{}), sums: map[string]float64{}}
	go r.run()
	t.Cleanup(r.close)
	return r
}

func (r *receiver) run() {
	defer close(r.done)
	buf := make([]byte, 65536)
	for {
		n, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.packets++
		for _, line := range strings.Split(string(buf[:n]), "\n") {
			r.all = append(r.all, line)
			name, rest, _ := strings.Cut(line, ":")
			v, typ, _ := strings.Cut(rest, "|")
			if strings.HasPrefix(typ, "c") {
				f, _ := strconv.ParseFloat(v, 64)
				r.sums[name] += f
			}
		}
		r.mu.Unlock()
	}
}

func (r *receiver) close() {
	r.conn.Close()
	<-r.done
}

func (r *receiver) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

func (r *receiver) addr() string { return r.conn.LocalAddr().String() }

// wait polls until cond holds on what was received, or fails after 10 s.
func (r *receiver) wait(t *testing.T, what string, cond func(packets int, sums map[string]float64) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r.packets, r.sums)
		r.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *receiver) stats() (int, map[string]float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets, maps.Clone(r.sums)
}

// A million increments of one counter are sent as a handful of packets;
// an unaggregated client sends one packet per increment.
func TestAggregationSavesPackets(t *testing.T) {
	const increments = 1_000_000
	ours := listen(t, "127.0.0.1:0")
	d, err := statsdmetrics.New(ours.addr(), statsdmetrics.WithFlushInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(d)
	c := m.Counter("hits_total").With()
	for range increments {
		c.Inc()
	}
	m.Close()
	ours.wait(t, "the million increments", func(_ int, sums map[string]float64) bool { return sums["hits_total"] == increments })
	ourPackets, _ := ours.stats()

	// The unaggregated client, on a sample (it costs a system call each).
	const sample = 20_000
	theirs := listen(t, "127.0.0.1:0")
	client, err := cactus.NewClientWithConfig(&cactus.ClientConfig{Address: theirs.addr()})
	if err != nil {
		t.Fatal(err)
	}
	for range sample {
		client.Inc("hits_total", 1, 1)
	}
	client.Close()
	theirs.wait(t, "the unaggregated sample", func(p int, _ map[string]float64) bool { return p >= sample*9/10 })
	theirPackets, _ := theirs.stats()
	perIncrement := float64(theirPackets) / sample

	ratio := perIncrement * increments / float64(ourPackets)
	t.Logf("%d increments: %d packets aggregated; unaggregated: %d packets for %d increments (%.2f per increment), %.0fx fewer",
		increments, ourPackets, theirPackets, sample, perIncrement, ratio)
	if ratio < 10 {
		t.Errorf("only %.1fx fewer packets than an unaggregated client, want ≥ 10x", ratio)
	}
	if st := d.Stats(); st.Packets != uint64(ourPackets) || st.SendErrors != 0 {
		t.Errorf("Stats = %+v, want %d packets sent and no errors", st, ourPackets)
	}
}

// Lines are batched into packets no larger than the configured size.
func TestPacketsFitTheMTU(t *testing.T) {
	r := listen(t, "127.0.0.1:0")
	const maxPacket = 512
	d, err := statsdmetrics.New(r.addr(), statsdmetrics.WithMaxPacketSize(maxPacket), statsdmetrics.WithFlushInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(d)
	c := m.Counter("series_total", metrics.Labels("n"))
	const series = 500
	for i := range series {
		c.With("n", strconv.Itoa(i)).Inc()
	}
	m.Close()
	r.wait(t, "every series", func(_ int, sums map[string]float64) bool { return sums["series_total"] == series })
	st := d.Stats()
	if st.Bytes/st.Packets > maxPacket || st.Packets < 2 {
		t.Errorf("%d bytes in %d packets: not batched under %d bytes", st.Bytes, st.Packets, maxPacket)
	}
}

// With no daemon on the port, recording neither blocks nor fails nor
// grows memory; the failure is counted and reported once; when the daemon
// comes back, values flow again.
func TestDaemonDown(t *testing.T) {
	// A port nobody listens on: the kernel answers with ICMP port
	// unreachable, and writes on the connected socket fail.
	probe := listen(t, "127.0.0.1:0")
	addr := probe.addr()
	probe.close()

	var mu sync.Mutex
	var reported []error
	d, err := statsdmetrics.New(addr, statsdmetrics.WithFlushInterval(time.Hour), statsdmetrics.WithMaxValues(100))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(d, metrics.WithErrorHandler(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	defer m.Close()
	c := m.Counter("down_total").With()
	h := m.Timer("down_seconds").With()

	for round := range 5 {
		start := time.Now()
		for range 100_000 {
			c.Inc()
			h.Observe(time.Millisecond)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("round %d: 200k records took %v with the daemon down", round, took)
		}
		start = time.Now()
		d.Flush()
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("round %d: a flush took %v with the daemon down", round, took)
		}
	}
	st := d.Stats()
	if st.SendErrors == 0 || st.LastError == nil || time.Since(st.LastErrorAt) > time.Minute {
		t.Errorf("Stats = %+v: no recent send error counted with the daemon down", st)
	}
	// The timer kept at most 100 values per interval: memory is bounded.
	if want := uint64(5 * (100_000 - 100)); st.Dropped != want {
		t.Errorf("Dropped = %d, want %d (reservoir of 100 per interval)", st.Dropped, want)
	}
	mu.Lock()
	n := len(reported)
	first := error(nil)
	if n > 0 {
		first = reported[0]
	}
	mu.Unlock()
	if n != 1 || !errors.Is(first, metrics.ErrUnavailable) {
		t.Errorf("reported %d errors (%v), want ErrUnavailable once (at most once a minute)", n, first)
	}
	if m.Stats().Errors != uint64(n) {
		t.Errorf("Metrics Stats().Errors = %d, want %d", m.Stats().Errors, n)
	}

	// The daemon comes back on the same port.
	back := listen(t, addr)
	c.Add(7)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.Flush()
		_, sums := back.stats()
		if sums["down_total"] >= 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing received after the daemon came back: %v", sums)
		}
		c.Add(7)
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNewErrors(t *testing.T) {
	for _, opts := range [][]statsdmetrics.Option{
		{statsdmetrics.WithSampleRate(0)},
		{statsdmetrics.WithSampleRate(1.5)},
		{statsdmetrics.WithFlushInterval(0)},
		{statsdmetrics.WithMaxPacketSize(10)},
		{statsdmetrics.WithMaxValues(0)},
		{statsdmetrics.WithTagFormat(0)},
	} {
		if d, err := statsdmetrics.New("127.0.0.1:8125", opts...); err == nil {
			d.Close()
			t.Errorf("New accepted invalid options")
		}
	}
	if _, err := statsdmetrics.New("no-port"); err == nil {
		t.Error("New accepted an address without a port")
	}
}
