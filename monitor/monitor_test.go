package monitor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/oserr"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func manual() Option { return func(o *options) { o.manual = true } }

type toggle struct{ err atomic.Pointer[error] }

func (t *toggle) set(err error) { t.err.Store(&err) }
func (t *toggle) Check(context.Context) error {
	if p := t.err.Load(); p != nil {
		return *p
	}
	return nil
}

var errDown = errors.New("down")

func TestFlapDampingAndStatus(t *testing.T) {
	clk := fakeclock.New(time.Unix(1000, 0))
	m := New(WithClock(clk.Now), manual())
	defer m.Close()
	db, cache := &toggle{}, &toggle{}
	if err := m.Register("db", db, Critical(), Damping(3), Interval(time.Second)); err != nil {
		t.Fatal(err)
	}
	m.Register("cache", cache, Interval(time.Second))
	if st := m.Status(); st != StatusStarting {
		t.Fatalf("status %s, want starting", st)
	}
	ctx := context.Background()
	m.RunNow(ctx, "db")
	m.RunNow(ctx, "cache")
	if st := m.Status(); st != StatusRunning || !m.Ready() {
		t.Fatalf("status %s ready %v", st, m.Ready())
	}
	db.set(errDown)
	for i := 1; i <= 3; i++ {
		clk.Advance(time.Second)
		m.RunNow(ctx, "db")
		if want := i < 3; m.Ready() != want {
			t.Fatalf("after %d failures ready=%v, want %v (damping 3)", i, m.Ready(), want)
		}
	}
	if st := m.Status(); st != StatusUnhealthy {
		t.Fatalf("status %s, want unhealthy", st)
	}
	// one pass and a failure: the streak resets, the state holds.
	db.set(nil)
	m.RunNow(ctx, "db")
	db.set(errDown)
	m.RunNow(ctx, "db")
	db.set(nil)
	m.RunNow(ctx, "db")
	m.RunNow(ctx, "db")
	if m.Ready() {
		t.Fatal("ready after 2 passes with damping 3")
	}
	m.RunNow(ctx, "db")
	if !m.Ready() {
		t.Fatal("not ready after 3 passes")
	}
	cache.set(errDown)
	m.RunNow(ctx, "cache")
	if st := m.Status(); st != StatusDegraded || !m.Ready() {
		t.Fatalf("non-critical failing: status %s ready %v, want degraded and ready", st, m.Ready())
	}
	rep := m.Report()
	var seq []Status
	for _, tr := range rep.Transitions {
		seq = append(seq, tr.To)
	}
	want := []Status{StatusStarting, StatusRunning, StatusUnhealthy, StatusRunning, StatusDegraded}
	if len(seq) != len(want) {
		t.Fatalf("transitions %v, want %v", seq, want)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("transitions %v, want %v", seq, want)
		}
	}
	if rep.Transitions[2].At != time.Unix(1003, 0) {
		t.Fatalf("unhealthy at %v, want the fake clock's 1003s", rep.Transitions[2].At)
	}
}

func TestMaxAge(t *testing.T) {
	clk := fakeclock.New(time.Unix(1000, 0))
	m := New(WithClock(clk.Now), manual())
	defer m.Close()
	m.Register("db", &toggle{}, Critical(), Interval(time.Second), MaxAge(5*time.Second))
	m.RunNow(context.Background(), "db")
	clk.Advance(5 * time.Second)
	if !m.Ready() {
		t.Fatal("not ready at exactly max age")
	}
	clk.Advance(time.Millisecond)
	if m.Ready() {
		t.Fatal("ready with a result older than max age")
	}
	cs, _ := m.CheckState("db")
	if !errors.Is(cs.Err(), ErrStale) || oserr.Code(cs.Err()) != oserr.Unavailable {
		t.Fatalf("err %v, want ErrStale", cs.Err())
	}
	if m.Status() != StatusUnhealthy {
		t.Fatalf("status %s", m.Status())
	}
}

func TestPanicReported(t *testing.T) {
	m := New(manual())
	defer m.Close()
	m.Add("boom", func(context.Context) error { panic("kaboom") }, Critical())
	err := m.RunNow(context.Background(), "boom")
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("err %v, want ErrPanic", err)
	}
	if m.Ready() {
		t.Fatal("ready with a panicking critical check")
	}
}

// A hung check is cut at its timeout, and while it is still held
// /health/ready answers (from the cached result) without waiting for it.
func TestHungCheckCut(t *testing.T) {
	m := New()
	hold := make(chan struct{})
	entered := make(chan struct{}, 10)
	var calls atomic.Int32
	m.Add("hung", func(ctx context.Context) error {
		calls.Add(1)
		entered <- struct{}{}
		<-hold // ignores ctx on purpose
		return nil
	}, Critical(), Interval(50*time.Millisecond), Timeout(20*time.Millisecond))
	defer func() {
		close(hold)
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	}()
	<-entered
	// wait for the timeout to be recorded, by state change notification
	for {
		ch := m.Changed()
		if cs, _ := m.CheckState("hung"); cs.Runs > 0 {
			if !errors.Is(cs.Err(), ErrTimeout) {
				t.Fatalf("err %v, want ErrTimeout", cs.Err())
			}
			break
		}
		<-ch
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/health/ready") // the check is still held here
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("ready %d while the critical check is hung, want 503", res.StatusCode)
	}
	select {
	case <-hold:
		t.Fatal("released early")
	default:
	}
	// later runs report it still hung without a second call
	for {
		ch := m.Changed()
		if cs, _ := m.CheckState("hung"); cs.Runs >= 3 {
			break
		}
		<-ch
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d calls of a hung check, want 1", n)
	}
	res, err = http.Get(srv.URL + "/health/live")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("live: %v %v", res, err)
	}
	res.Body.Close()
}

func TestSinkRetryAndCheck(t *testing.T) {
	s := NewMemorySink()
	s.Fail(errDown)
	m := New(WithSink(s), WithPublishInterval(10*time.Millisecond), WithRetry(time.Millisecond, 5*time.Millisecond))
	defer m.Close()
	m.Add("x", func(context.Context) error { return nil }, Interval(time.Hour))
	for m.Check(context.Background()) == nil {
		<-m.Changed()
	}
	if err := m.Check(context.Background()); !errors.Is(err, ErrSink) {
		t.Fatalf("Check %v, want ErrSink", err)
	}
	pub := s.Published()
	s.Fail(nil)
	<-pub
	for m.Check(context.Background()) != nil {
		<-s.Published()
	}
	if n := len(s.Reports()); n == 0 {
		t.Fatal("no report")
	}
}

func TestShutdown(t *testing.T) {
	s := NewMemorySink()
	m := New(WithSink(s), WithPublishInterval(time.Hour))
	m.Add("db", func(context.Context) error { return nil }, Critical(), Interval(time.Hour))
	m.RunNow(context.Background(), "db")
	if !m.Ready() {
		t.Fatal("not ready")
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.Ready() || m.Status() != StatusStopping {
		t.Fatalf("after Shutdown: ready %v status %s", m.Ready(), m.Status())
	}
	reps := s.Reports()
	if len(reps) == 0 || reps[len(reps)-1].Status != StatusStopping {
		t.Fatalf("last report not stopping: %d reports", len(reps))
	}
	if err := m.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if err := m.Add("late", func(context.Context) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after close: %v", err)
	}
	if err := m.Check(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after close: %v", err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/health/ready", nil))
	if rec.Code != 503 {
		t.Fatalf("ready after shutdown %d", rec.Code)
	}
}

func TestTCPCheck(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	if err := TCP(addr).Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := TCP(addr).Check(context.Background()); err == nil {
		t.Fatal("dial of a closed port passed")
	}
}

func TestHTTPGetAndNames(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer bad.Close()
	if err := HTTPGet(nil, ok.URL).Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := HTTPGet(nil, bad.URL).Check(context.Background()); err == nil {
		t.Fatal("500 passed")
	}
	m := New(manual())
	defer m.Close()
	if err := m.Register("", &toggle{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.CheckState("monitor.toggle"); !ok {
		t.Fatalf("derived name: %v", m.Checks())
	}
	if err := m.Register("", &toggle{}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
}

type rw struct {
	h    http.Header
	code int
}

func (w *rw) Header() http.Header         { return w.h }
func (w *rw) Write(b []byte) (int, error) { return len(b), nil }
func (w *rw) WriteHeader(c int)           { w.code = c }

func BenchmarkReady(b *testing.B) {
	m := New(manual())
	defer m.Close()
	for _, n := range []string{"db", "cache", "queue", "auth", "search"} {
		m.Add(n, func(context.Context) error { return nil }, Critical())
		m.RunNow(context.Background(), n)
	}
	h := m.Handler()
	req := httptest.NewRequest("GET", "/health/ready", nil)
	w := &rw{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
	if w.code != 200 {
		b.Fatal(w.code)
	}
}

// The healthy /health/ready path allocates nothing (BenchmarkReady times it).
func TestReadyHealthyPathAllocs(t *testing.T) {
	m := New(manual())
	defer m.Close()
	for _, n := range []string{"db", "cache", "queue"} {
		m.Add(n, func(context.Context) error { return nil }, Critical())
		m.RunNow(context.Background(), n)
	}
	h := m.Handler()
	req := httptest.NewRequest("GET", "/health/ready", nil)
	w := &rw{h: http.Header{}}
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) }); n != 0 || w.code != 200 {
		t.Fatalf("%v allocations (status %d), want 0 on the healthy path", n, w.code)
	}
}
