package ringkv_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

// fleet is a service's instances finding each other through a registry.
type fleet struct {
	t       *testing.T
	reg     discovery.Registry
	service string
	nodes   []*node
	opts    []ringkv.Option
}

func newFleet(t *testing.T, reg discovery.Registry, service string, opts ...ringkv.Option) *fleet {
	return &fleet{t: t, reg: reg, service: service, opts: opts}
}

func (f *fleet) svc(n *node) *discovery.Service {
	u, _ := url.Parse(n.url)
	host, port, _ := net.SplitHostPort(u.Host)
	p, _ := strconv.Atoi(port)
	return &discovery.Service{Name: f.service, Nodes: []*discovery.Node{{
		ID: f.service + "-" + port, Address: host, Port: p,
		Metadata: map[string]string{ringkv.MetadataURL: n.url},
	}}}
}

// add starts an instance and registers it; it joins through the watch.
func (f *fleet) add() *node {
	f.t.Helper()
	n := newNode(f.t)
	n.join(f.t, nil, append([]ringkv.Option{ringkv.WithDiscovery(f.reg, f.service)}, f.opts...)...)
	if err := f.reg.Register(context.Background(), f.svc(n)); err != nil {
		f.t.Fatal(err)
	}
	f.nodes = append(f.nodes, n)
	return n
}

// remove deregisters n and takes it out of the fleet.
func (f *fleet) remove(n *node) {
	f.t.Helper()
	if err := f.reg.Deregister(context.Background(), f.svc(n)); err != nil {
		f.t.Fatal(err)
	}
	f.nodes = slices.DeleteFunc(f.nodes, func(m *node) bool { return m == n })
}

// converge waits until every instance's ring is the fleet and has settled.
func (f *fleet) converge() {
	f.t.Helper()
	var want []string
	for _, n := range f.nodes {
		want = append(want, n.url)
	}
	slices.Sort(want)
	for _, n := range f.nodes {
		waitFor(f.t, fmt.Sprintf("%s to see %d members", n.url, len(want)), func() bool { return slices.Equal(n.ring.Peers(), want) })
	}
	settle(f.t, f.nodes...)
}

func TestMembershipFromDiscovery(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	f := newFleet(t, reg, "ring-members")
	for i := 0; i < 3; i++ {
		f.add()
	}
	f.converge()
	s := f.nodes[0].ring.Store()
	defer s.Close()
	for i := 0; i < 50; i++ {
		if err := s.Set(ctx, kv.Item{Key: "m-" + strconv.Itoa(i), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	d := f.add()
	f.converge()
	f.remove(f.nodes[0])
	f.converge()
	for i := 0; i < 50; i++ {
		it, err := d.ring.Store().Get(ctx, "m-"+strconv.Itoa(i))
		if err != nil || string(it.Value) != strconv.Itoa(i) {
			t.Fatalf("m-%d through the instance that joined = %q, %v", i, it.Value, err)
		}
	}
}

// load writes and reads keys through every instance until stopped; each
// writer has its own keys, so the last value it had acknowledged is what
// each key must read afterwards.
type load struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked map[string]string
	errs  []error
	reads int
}

func startLoad(t *testing.T, prefix string, stores []kv.Store, writers, keysPerWriter int) *load {
	l := &load{stop: make(chan struct{}), acked: map[string]string{}}
	for w := 0; w < writers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for seq := 0; ; seq++ {
				select {
				case <-l.stop:
					return
				default:
				}
				s := stores[rng.IntN(len(stores))]
				k := fmt.Sprintf("%s-w%d-k%d", prefix, w, rng.IntN(keysPerWriter))
				v := fmt.Sprintf("w%d-%d", w, seq)
				if err := s.Set(ctx, kv.Item{Key: k, Value: []byte(v)}); err != nil {
					// Not acknowledged: the key may hold either value now.
					// Write again until one is, so the last is known.
					l.fail(fmt.Errorf("set %s: %w", k, err))
					for try := 0; ; try++ {
						err := stores[rng.IntN(len(stores))].Set(ctx, kv.Item{Key: k, Value: []byte(v)})
						if err == nil {
							break
						}
						if try == 1000 {
							l.fail(fmt.Errorf("set %s: still failing after 1000 tries: %w", k, err))
							return
						}
					}
				}
				l.mu.Lock()
				l.acked[k] = v
				l.mu.Unlock()
				// A read of a key this writer acknowledged must see it.
				if it, err := stores[rng.IntN(len(stores))].Get(ctx, k); err != nil || string(it.Value) != v {
					l.fail(fmt.Errorf("get %s right after its write of %q: %q, %v", k, v, it.Value, err))
				}
				l.mu.Lock()
				l.reads++
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) fail(err error) {
	l.mu.Lock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, err)
	}
	l.mu.Unlock()
}

// end stops the load and checks every acknowledged key through every store.
func (l *load) end(t *testing.T, stores []kv.Store, unavailableOK bool) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	for _, err := range l.errs {
		if unavailableOK && errors.Is(err, kv.ErrUnavailable) {
			t.Logf("during the change: %v", err)
			continue
		}
		t.Errorf("during the change: %v", err)
	}
	ctx := context.Background()
	keys := make([]string, 0, len(l.acked))
	for k := range l.acked {
		keys = append(keys, k)
	}
	for i, s := range stores {
		got, err := s.GetMulti(ctx, keys)
		if err != nil {
			t.Fatalf("GetMulti through store %d: %v", i, err)
		}
		for _, k := range keys {
			if string(got[k].Value) != l.acked[k] {
				t.Errorf("%s through store %d = %q, want its last acknowledged value %q", k, i, got[k].Value, l.acked[k])
			}
		}
	}
	t.Logf("%d keys, %d acknowledged write+read pairs, every key read back through %d instances", len(keys), l.reads, len(stores))
}

func storesOf(t testing.TB, nodes []*node) []kv.Store {
	var out []kv.Store
	for _, n := range nodes {
		s := n.ring.Store()
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// A fourth instance joins three during a read/write load: every write
// acknowledged before, during and after the join reads back.
func TestJoinUnderLoad(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	f := newFleet(t, reg, "ring-join")
	for i := 0; i < 3; i++ {
		f.add()
	}
	f.converge()
	stores := storesOf(t, f.nodes)
	l := startLoad(t, "join", stores, 4, 100)
	waitFor(t, "some load", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > 200 })
	before := 0
	for _, n := range f.nodes {
		before += n.ring.Stats().Keys
	}
	d := f.add()
	f.converge()
	moved := d.ring.Stats().Keys
	waitFor(t, "load after the join", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > 600 })
	l.end(t, append(stores, storesOf(t, []*node{d})...), false)
	t.Logf("3 → 4 instances: the new one holds %d of %d copies (%.0f%%; 1/4 is the share it owns)", moved, before, 100*float64(moved)/float64(before))
}

// One of five instances is killed (its listener closed abruptly) during a
// write load with N=2: every acknowledged key still reads back with its
// last acknowledged value, and once the ring drops it, every key has its
// two copies again.
func TestKillUnderLoad(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	f := newFleet(t, reg, "ring-kill")
	for i := 0; i < 5; i++ {
		f.add()
	}
	f.converge()
	victim := f.nodes[4]
	stores := storesOf(t, f.nodes[:4])
	l := startLoad(t, "kill", stores, 4, 100)
	waitFor(t, "some load", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > 200 })
	start := time.Now()
	victim.kill()
	defer func() { t.Logf("kill → end: %s", time.Since(start)) }()
	waitFor(t, "load with the instance dead", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > 350 })
	t.Logf("dead, load: %s", time.Since(start))
	f.remove(victim)
	f.converge()
	t.Logf("dropped: %s", time.Since(start))
	waitFor(t, "load after the ring dropped it", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > 500 })
	l.end(t, stores, true)
	t.Logf("read back: %s", time.Since(start))
	waitFor(t, "two copies of every key", func() bool {
		total := 0
		for _, n := range f.nodes {
			total += n.ring.Stats().Keys
		}
		return total == 2*len(l.acked)
	})
}

// An instance that leaves gracefully (Shutdown) hands its keys off to
// the owners they have without it, before the ring drops it.
func TestGracefulLeave(t *testing.T) {
	ctx := context.Background()
	nodes := cluster(t, 3)
	s := nodes[0].ring.Store()
	defer s.Close()
	for i := 0; i < 200; i++ {
		if err := s.Set(ctx, kv.Item{Key: "leave-" + strconv.Itoa(i), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	leaving := nodes[2]
	held := leaving.ring.Stats().Keys
	if err := leaving.ring.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// N=2 of 2 instances: each holds every key, as soon as the leave ends.
	if got := nodes[0].ring.Stats().Keys + nodes[1].ring.Stats().Keys; got != 400 {
		t.Fatalf("after the leave the two others hold %d copies, want 400 (the one that left had %d)", got, held)
	}
	for i := 0; i < 200; i++ {
		k := "leave-" + strconv.Itoa(i)
		if it, err := s.Get(ctx, k); err != nil || string(it.Value) != strconv.Itoa(i) {
			t.Fatalf("after the leave (before the ring dropped it), %s = %q, %v", k, it.Value, err)
		}
	}
	rest := []string{nodes[0].url, nodes[1].url}
	nodes[0].ring.SetPeers(rest...)
	nodes[1].ring.SetPeers(rest...)
	settle(t, nodes[:2]...)
	for i := 0; i < 200; i++ {
		k := "leave-" + strconv.Itoa(i)
		if it, err := s.Get(ctx, k); err != nil || string(it.Value) != strconv.Itoa(i) {
			t.Fatalf("after the ring dropped the instance that left, %s = %q, %v", k, it.Value, err)
		}
	}
	if got := nodes[0].ring.Stats().Keys + nodes[1].ring.Stats().Keys; got != 400 {
		t.Fatalf("the two left hold %d copies, want 400", got)
	}
}

// 3 → 5 → 3 instances under a read/write load, the last two leaving
// gracefully: every write is read back right after it is acknowledged,
// and every key at the end, through each remaining instance.
func TestScaleUpAndDownUnderLoad(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	f := newFleet(t, reg, "ring-scale")
	for i := 0; i < 3; i++ {
		f.add()
	}
	f.converge()
	stores := storesOf(t, f.nodes)
	l := startLoad(t, "scale", stores, 4, 100)
	reads := func(n int) func() bool {
		return func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > n }
	}
	waitFor(t, "some load", reads(150))
	for j := 0; j < 2; j++ {
		total := 0
		for _, n := range f.nodes {
			total += n.ring.Stats().Keys
		}
		joined := f.add()
		f.converge()
		t.Logf("join %d: the new instance holds %d of %d copies (%.0f%%; its share is 1/%d = %.0f%%)",
			len(f.nodes), joined.ring.Stats().Keys, total, 100*float64(joined.ring.Stats().Keys)/float64(total), len(f.nodes), 100/float64(len(f.nodes)))
		waitFor(t, "load after the join", reads(150+150*(j+1)))
	}
	for j := 0; j < 2; j++ {
		leaving := f.nodes[len(f.nodes)-1]
		if err := leaving.ring.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.remove(leaving)
		f.converge()
		waitFor(t, "load after the leave", reads(450+150*(j+1)))
	}
	l.end(t, stores, false)
}

// An instance that joins answers for the keys it now owns before any is
// handed to it: it asks their previous owners until the handoff ends.
func TestJoinerReadsThroughUntilHandedOff(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	f := newFleet(t, reg, "ring-readthrough")
	for i := 0; i < 3; i++ {
		f.add()
	}
	f.converge()
	s := f.nodes[0].ring.Store()
	defer s.Close()
	const keys = 200
	for i := 0; i < keys; i++ {
		if err := s.Set(ctx, kv.Item{Key: "rt-" + strconv.Itoa(i), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	// The joiner receives no copies until the gate opens.
	d := newNode(t)
	gate := make(chan struct{})
	var open sync.Once
	openGate := func() { open.Do(func() { close(gate) }) }
	t.Cleanup(openGate) // before the server's Close, which waits for held requests
	d.gate.Store(&gate)
	d.join(t, nil, ringkv.WithDiscovery(reg, f.service))
	if err := reg.Register(ctx, f.svc(d)); err != nil {
		t.Fatal(err)
	}
	f.nodes = append(f.nodes, d)
	waitFor(t, "every instance to see the joiner", func() bool {
		for _, n := range f.nodes {
			if len(n.ring.Peers()) != 4 {
				return false
			}
		}
		return true
	})
	if !d.ring.Stats().Syncing || d.ring.Stats().Keys != 0 {
		t.Fatalf("the joiner is not waiting for its keys: %+v", d.ring.Stats())
	}
	ds := d.ring.Store()
	defer ds.Close()
	for i := 0; i < keys; i++ {
		k := "rt-" + strconv.Itoa(i)
		if it, err := ds.Get(ctx, k); err != nil || string(it.Value) != strconv.Itoa(i) {
			t.Fatalf("%s through the joiner before its handoff = %q, %v", k, it.Value, err)
		}
	}
	openGate()
	f.converge()
	if d.ring.Stats().Syncing || d.ring.Stats().Keys == 0 {
		t.Fatalf("after the handoff: %+v", d.ring.Stats())
	}
}

// A registry that loses every registration (a fresh Consul agent) does
// not empty the ring: the members known are kept, and so are the keys.
func TestRegistryRestartKeepsKeys(t *testing.T) {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	var kept atomic.Int64 // rings that saw the empty registry and kept their members
	log := slog.New(&onMessage{msg: "ringkv: discovery lists no instance; keeping the current members", n: &kept})
	f := newFleet(t, reg, "ring-restart", ringkv.WithLogger(log))
	for i := 0; i < 3; i++ {
		f.add()
	}
	f.converge()
	s := f.nodes[0].ring.Store()
	defer s.Close()
	for i := 0; i < 50; i++ {
		if err := s.Set(ctx, kv.Item{Key: "rs-" + strconv.Itoa(i), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	reg.Restart()
	waitFor(t, "the three rings to see the registry empty", func() bool { return kept.Load() >= 3 })
	settle(t, f.nodes...)
	for _, n := range f.nodes {
		if len(n.ring.Peers()) != 3 {
			t.Fatalf("%s: members %v after the registry lost them", n.url, n.ring.Peers())
		}
	}
	for i := 0; i < 50; i++ {
		if _, err := s.Get(ctx, "rs-"+strconv.Itoa(i)); err != nil {
			t.Fatalf("rs-%d after the registry restart: %v", i, err)
		}
	}
}

// onMessage counts the log records with one message.
type onMessage struct {
	msg string
	n   *atomic.Int64
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onMessage) WithGroup(string) slog.Handler      { return h }

// An instance that restarts empty at the same address, before the ring
// drops it, is handed its keys before it answers for them.
func TestRestartAtTheSameAddress(t *testing.T) {
	ctx := context.Background()
	nodes := cluster(t, 3)
	s := nodes[0].ring.Store()
	defer s.Close()
	const keys = 150
	for i := 0; i < keys; i++ {
		if err := s.Set(ctx, kv.Item{Key: "re-" + strconv.Itoa(i), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	old := nodes[2].ring
	nodes[2].setOff(true) // the crash: the peers keep it as a member
	old.Close()
	peers := old.Peers()
	nodes[2].join(t, peers) // a fresh, empty instance at the same URL
	if st := nodes[2].ring.Stats(); st.Keys != 0 {
		t.Fatalf("the restarted instance starts with %d keys", st.Keys)
	}
	nodes[2].setOff(false)
	settle(t, nodes[2])
	rs := nodes[2].ring.Store()
	defer rs.Close()
	for i := 0; i < keys; i++ {
		k := "re-" + strconv.Itoa(i)
		if it, err := rs.Get(ctx, k); err != nil || string(it.Value) != strconv.Itoa(i) {
			t.Fatalf("%s through the restarted instance = %q, %v", k, it.Value, err)
		}
	}
	if got := nodes[2].ring.Stats().Keys; got < keys/3 {
		t.Fatalf("the restarted instance holds %d keys: it was not handed its share", got)
	}
}

// One of five instances, a child process, is killed with SIGKILL during a
// write load with N=2: every acknowledged key still reads back with its
// last acknowledged value, before and after the ring drops it.
func TestSIGKILLUnderLoad(t *testing.T) {
	nodes := make([]*node, 4)
	var urls []string
	for i := range nodes {
		nodes[i] = newNode(t)
		urls = append(urls, nodes[i].url)
	}
	addr := testenv.FreePort(t)
	childURL := "http://" + addr + "/_kv"
	all := append(slices.Clone(urls), childURL)
	child := startChild(t, addr, all)
	for _, n := range nodes {
		n.join(t, all)
	}
	waitFor(t, "the child instance to serve", func() bool {
		resp, err := http.Post(childURL+"/peek?k=x", "", nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	})
	settle(t, nodes...)
	stores := storesOf(t, nodes)
	l := startLoad(t, "sigkill", stores, 4, 100)
	reads := func(n int) func() bool {
		return func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.reads > n }
	}
	waitFor(t, "some load", reads(150))
	l.mu.Lock()
	var written []string
	for k := range l.acked {
		written = append(written, k)
	}
	l.mu.Unlock()
	held := 0
	for _, k := range written {
		if _, ok := peek(t, &node{url: childURL}, k); ok {
			held++
		}
	}
	t.Logf("the child holds %d of the %d keys written so far when it is killed", held, len(written))
	if held == 0 {
		t.Fatal("the child holds no key: killing it would test nothing")
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	waitFor(t, "load with the child dead", reads(300))
	for _, n := range nodes {
		if err := n.ring.SetPeers(urls...); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, nodes...)
	waitFor(t, "load after the ring dropped it", reads(450))
	l.end(t, stores, true)
	waitFor(t, "two copies of every key", func() bool {
		total := 0
		for _, n := range nodes {
			total += n.ring.Stats().Keys
		}
		return total == 2*len(l.acked)
	})
}
