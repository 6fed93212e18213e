// Package synctest is the conformance suite every sync backend runs
// against its real server: Run(t, Config{...}).
package synctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/oserr"
	ossync "github.com/microos/go-os/sync"
)

// Config describes the backend under test.
type Config struct {
	// NewDriver returns a new driver on the backend (a new client: the
	// suite calls it again to model a restart). The suite closes it.
	NewDriver func(t *testing.T) ossync.Driver
	// TTL is the lock TTL the tests use (default 500 ms). Consul needs at
	// least 10 s.
	TTL time.Duration
	// Expiry is the longest the backend takes to free a lock whose holder
	// stopped renewing, counted from its last renewal (default TTL; Consul
	// invalidates a session only after up to twice its TTL).
	Expiry time.Duration
}

func (c Config) ttl() time.Duration {
	if c.TTL == 0 {
		return 500 * time.Millisecond
	}
	return c.TTL
}

func (c Config) expiry() time.Duration {
	if c.Expiry == 0 {
		return c.ttl()
	}
	return c.Expiry
}

type suite struct {
	Config
}

// client makes a Client on a new driver wrapped in fault injection.
func (s suite) client(t *testing.T, opts ...ossync.Option) (*ossync.Client, *ossync.Faults) {
	f := ossync.InjectFaults(s.NewDriver(t))
	ttl := s.ttl()
	base := []ossync.Option{ossync.WithTTL(ttl), ossync.WithRetry(ttl/50, ttl/10), ossync.WithLockDelay(0), ossync.WithPollEvery(ttl / 20)}
	c := ossync.New(f, append(base, opts...)...)
	t.Cleanup(func() { c.Close() })
	return c, f
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9]+`)

// name is a lock name no other test, run, or helper sharing the server uses.
func name(t *testing.T) string {
	var b [4]byte
	rand.Read(b[:])
	n := "synctest/" + unsafe.ReplaceAllString(t.Name(), "-") + "/" + hex.EncodeToString(b[:])
	if len(n) > 150 {
		n = n[len(n)-150:]
	}
	return n
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Run runs the conformance suite.
func Run(t *testing.T, cfg Config) {
	s := suite{cfg}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"MutualExclusion", s.mutualExclusion},
		{"TryLock", s.tryLock},
		{"ExpiryAfterHolderDies", s.expiryAfterDeath},
		{"RenewalKeepsLongHolder", s.renewal},
		{"PausedHolderLearnsFirst", s.pausedHolder},
		{"FencingAcrossRestarts", s.fencingRestarts},
		{"UnlockNeverReleasesAnother", s.unlockOthers},
		{"OneLeaderAndResign", s.election},
		{"HandoverOnLeaderDeath", s.leaderDeath},
		{"ObserveSeesEveryChange", s.observe},
		{"ContextCancellation", s.cancellation},
		{"UseAfterClose", s.afterClose},
		{"CheckHealth", s.check},
		{"Linearizable", s.linearizable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

func (s suite) mutualExclusion(t *testing.T) {
	const clients, rounds = 8, 5
	n := name(t)
	var inside atomic.Int32
	var mu gosync.Mutex
	var last uint64
	var wg gosync.WaitGroup
	ctx := ctxT(t, 20*s.ttl()+time.Minute)
	for i := 0; i < clients; i++ {
		c, _ := s.client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				l, err := c.Lock(ctx, n)
				if err != nil {
					t.Errorf("Lock: %v", err)
					return
				}
				if got := inside.Add(1); got != 1 {
					t.Errorf("%d holders at once", got)
				}
				mu.Lock()
				if l.Token() <= last {
					t.Errorf("token %d after %d", l.Token(), last)
				}
				last = l.Token()
				mu.Unlock()
				inside.Add(-1)
				if err := l.Unlock(ctx); err != nil {
					t.Errorf("Unlock: %v", err)
				}
			}
		}()
	}
	wg.Wait()
}

func (s suite) tryLock(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	n := name(t)
	a, _ := s.client(t)
	b, _ := s.client(t)
	la, err := a.TryLock(ctx, n, ossync.WithValue([]byte("a")))
	if err != nil {
		t.Fatalf("TryLock on a free lock: %v", err)
	}
	if _, err := b.TryLock(ctx, n); !errors.Is(err, ossync.ErrLocked) || oserr.Code(err) != oserr.Conflict {
		t.Fatalf("TryLock on a held lock: %v, want ErrLocked (Conflict)", err)
	}
	h, err := b.Holder(ctx, n)
	if err != nil || string(h.Value) != "a" || h.Token != la.Token() {
		t.Fatalf("Holder = %+v, %v; want a with token %d", h, err, la.Token())
	}
	if err := la.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if la.Err() == nil || !isDone(la.Done()) {
		t.Fatal("an unlocked lease is not done")
	}
	if err := la.Unlock(ctx); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
	if _, err := b.Holder(ctx, n); !errors.Is(err, ossync.ErrNoLeader) {
		t.Fatalf("Holder of a free lock: %v, want ErrNoLeader", err)
	}
	lb, err := b.TryLock(ctx, n)
	if err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
	if lb.Token() <= la.Token() {
		t.Fatalf("token %d after %d", lb.Token(), la.Token())
	}
	if _, err := b.TryLock(ctx, "bad name"); !errors.Is(err, ossync.ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := b.TryLock(ctx, n+"x", ossync.WithTTL(-1)); !errors.Is(err, ossync.ErrInvalid) {
		t.Fatalf("negative TTL: %v", err)
	}
}

// expiryAfterDeath: the holder dies (no renewal, no unlock); the lock is
// free after the TTL and the next holder has a larger token.
func (s suite) expiryAfterDeath(t *testing.T) {
	s.takeover(t, (*ossync.Faults).Kill)
}

// pausedHolder: a holder whose renewals are blocked learns of the loss
// before another client gets the lock.
func (s suite) pausedHolder(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	to := s.takeover(t, (*ossync.Faults).PauseRenewals, ossync.WithRetry(time.Millisecond, 5*time.Millisecond))
	to.fa.Resume()
	if err := to.la.Unlock(ctx); err != nil {
		t.Fatalf("Unlock of a lost lease: %v, want nil", err)
	}
	if h, err := to.b.Holder(ctx, to.name); err != nil || h.Token != to.lb.Token() {
		t.Fatalf("after the lost lease's Unlock, Holder = %+v, %v; want token %d", h, err, to.lb.Token())
	}
}

// takeover: client a holds a lock, then fail stops its renewals; client b
// gets the lock only once a's lease is over: a has learnt it lost it
// (Done, ErrLost) by then, and b's token is larger.
func (s suite) takeover(t *testing.T, fail func(*ossync.Faults), opts ...ossync.Option) takeover {
	ctx := ctxT(t, 3*s.expiry()+time.Minute)
	n := name(t)
	a, fa := s.client(t)
	b, _ := s.client(t)
	la, err := a.Lock(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	fail(fa)
	lb, err := b.Lock(ctx, n, opts...)
	if err != nil {
		t.Fatalf("Lock after the holder stopped renewing: %v", err)
	}
	if !isDone(la.Done()) {
		t.Fatal("another client got the lock before the old holder's lease was over")
	}
	if !errors.Is(la.Err(), ossync.ErrLost) {
		t.Fatalf("old holder's Err = %v, want ErrLost", la.Err())
	}
	if lb.Token() <= la.Token() {
		t.Fatalf("token %d after %d", lb.Token(), la.Token())
	}
	return takeover{name: n, fa: fa, la: la, b: b, lb: lb}
}

type takeover struct {
	name   string
	fa     *ossync.Faults
	la, lb *ossync.Lease
	b      *ossync.Client
}

func (s suite) renewal(t *testing.T) {
	ctx := ctxT(t, 4*s.ttl()+time.Minute)
	n := name(t)
	a, _ := s.client(t)
	b, _ := s.client(t)
	la, err := a.Lock(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	// Holding for three TTLs is what is under test, not a synchronisation.
	select {
	case <-la.Done():
		t.Fatalf("lease lost while renewing: %v", la.Err())
	case <-time.After(3 * s.ttl()):
	}
	if _, err := b.TryLock(ctx, n); !errors.Is(err, ossync.ErrLocked) {
		t.Fatalf("TryLock three TTLs into a renewed lease: %v, want ErrLocked", err)
	}
	if err := la.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func (s suite) fencingRestarts(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	n := name(t)
	var last uint64
	for i := 0; i < 3; i++ {
		c, _ := s.client(t)
		l, err := c.Lock(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if l.Token() <= last {
			t.Fatalf("client %d: token %d after %d", i, l.Token(), last)
		}
		last = l.Token()
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !isDone(l.Done()) {
			t.Fatal("Close left a lease live")
		}
	}
}

// unlockOthers: the Unlock of a lease lost to expiry leaves the new
// holder's lock alone.
func (s suite) unlockOthers(t *testing.T) {
	ctx := ctxT(t, 3*s.expiry()+time.Minute)
	n := name(t)
	a, fa := s.client(t)
	b, _ := s.client(t)
	c, _ := s.client(t)
	la, err := a.Lock(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	fa.FailRenewals(errors.New("injected"))
	lb, err := b.Lock(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	fa.Resume()
	if err := la.Unlock(ctx); err != nil {
		t.Fatalf("Unlock of a lost lease: %v", err)
	}
	// Release by a's grant straight on the driver: must not touch b's lock.
	if _, err := c.TryLock(ctx, n); !errors.Is(err, ossync.ErrLocked) {
		t.Fatalf("after another's Unlock, TryLock = %v, want ErrLocked", err)
	}
	if lb.Err() != nil {
		t.Fatalf("b's lease ended: %v", lb.Err())
	}
}

func (s suite) election(t *testing.T) {
	const candidates = 4
	ctx := ctxT(t, 20*s.ttl()+time.Minute)
	e := name(t)
	var mu gosync.Mutex
	var leading *ossync.Leadership
	var last uint64
	seen := map[string]bool{}
	var wg gosync.WaitGroup
	for i := 0; i < candidates; i++ {
		c, _ := s.client(t)
		me := string(rune('a' + i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ld, err := c.Campaign(ctx, e, me)
			if err != nil {
				t.Errorf("Campaign: %v", err)
				return
			}
			mu.Lock()
			if leading != nil && leading.Err() == nil {
				t.Errorf("%s elected while %s still leads", me, leading.Candidate())
			}
			if ld.Token() <= last {
				t.Errorf("token %d after %d", ld.Token(), last)
			}
			leading, last, seen[me] = ld, ld.Token(), true
			mu.Unlock()
			got, err := c.Leader(ctx, e)
			if err != nil || got.Candidate != me || got.Token != ld.Token() {
				t.Errorf("Leader = %+v, %v; want %s with token %d", got, err, me, ld.Token())
			}
			if err := ld.Resign(ctx); err != nil {
				t.Errorf("Resign: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(seen) != candidates {
		t.Fatalf("%d of %d candidates led", len(seen), candidates)
	}
}

func (s suite) leaderDeath(t *testing.T) {
	ctx := ctxT(t, 3*s.expiry()+time.Minute)
	e := name(t)
	a, fa := s.client(t)
	b, _ := s.client(t)
	la, err := a.Campaign(ctx, e, "a")
	if err != nil {
		t.Fatal(err)
	}
	fa.Kill()
	lb, err := b.Campaign(ctx, e, "b")
	if err != nil {
		t.Fatal(err)
	}
	if !isDone(la.Done()) {
		t.Fatal("b elected while the dead leader a still believes it leads")
	}
	if got, err := b.Leader(ctx, e); err != nil || got.Candidate != "b" || got.Token != lb.Token() || got.Token <= la.Token() {
		t.Fatalf("Leader = %+v, %v; want b with token %d > %d", got, err, lb.Token(), la.Token())
	}
}

func (s suite) observe(t *testing.T) {
	ctx := ctxT(t, 10*s.ttl()+time.Minute)
	e := name(t)
	a, _ := s.client(t)
	b, _ := s.client(t)
	o, _ := s.client(t)
	ch, err := o.Observe(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	next := func(want string) ossync.Leader {
		t.Helper()
		for {
			select {
			case l, ok := <-ch:
				if !ok {
					t.Fatalf("Observe closed waiting for %q", want)
				}
				if l.Candidate == want {
					return l
				}
			case <-ctx.Done():
				t.Fatalf("Observe never showed %q", want)
			}
		}
	}
	next("")
	la, err := a.Campaign(ctx, e, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got := next("a"); got.Token != la.Token() {
		t.Fatalf("observed a with token %d, want %d", got.Token, la.Token())
	}
	la.Resign(ctx)
	next("")
	lb, err := b.Campaign(ctx, e, "b")
	if err != nil {
		t.Fatal(err)
	}
	if got := next("b"); got.Token != lb.Token() {
		t.Fatalf("observed b with token %d, want %d", got.Token, lb.Token())
	}
	o.Close()
	for range ch {
	}
}

func (s suite) cancellation(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	n := name(t)
	a, _ := s.client(t)
	b, _ := s.client(t)
	if _, err := a.Lock(ctx, n); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Campaign(ctx, n, "a"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, s.ttl()/5)
	defer cancel()
	if _, err := b.Lock(short, n); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock past its deadline: %v, want DeadlineExceeded", err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := b.Campaign(cctx, n, "b"); done <- err }()
	cancel2()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Campaign: %v, want Canceled", err)
	}
	// A blocking Lock returns ErrClosed when its Client closes.
	go func() { _, err := b.Lock(ctx, n); done <- err }()
	b.Close()
	if err := <-done; !errors.Is(err, ossync.ErrClosed) {
		t.Fatalf("Lock blocked across Close: %v, want ErrClosed", err)
	}
}

func (s suite) afterClose(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	n := name(t)
	a, _ := s.client(t)
	b, _ := s.client(t)
	la, err := a.Lock(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !errors.Is(la.Err(), ossync.ErrClosed) {
		t.Fatalf("lease after Close: %v, want ErrClosed", la.Err())
	}
	if _, err := b.TryLock(ctx, n); err != nil {
		t.Fatalf("Close did not release its lease: %v", err)
	}
	for op, err := range map[string]error{
		"Lock":  func() error { _, err := a.Lock(ctx, n); return err }(),
		"Try":   func() error { _, err := a.TryLock(ctx, n); return err }(),
		"Camp":  func() error { _, err := a.Campaign(ctx, n, "x"); return err }(),
		"Lead":  func() error { _, err := a.Leader(ctx, n); return err }(),
		"Obs":   func() error { _, err := a.Observe(ctx, n); return err }(),
		"Check": a.Check(ctx),
	} {
		if !errors.Is(err, ossync.ErrClosed) || oserr.Code(err) != oserr.Closed {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
	if err := la.Unlock(ctx); err != nil {
		t.Fatalf("Unlock after Close: %v", err)
	}
}

func (s suite) check(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	a, fa := s.client(t)
	if err := a.Check(ctx); err != nil {
		t.Fatalf("Check on a healthy backend: %v", err)
	}
	fa.Kill()
	err := a.Check(ctx)
	if !errors.Is(err, ossync.ErrUnavailable) || oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("Check with the backend cut off: %v, want ErrUnavailable", err)
	}
}
