package sync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"time"

	"github.com/microos/go-os/internal/backoff"
)

// Lease is one hold of a lock. The Client renews it in the background
// until Unlock, Close, or loss. Its methods are safe for concurrent use.
//
// A lease can be lost without the holder doing anything wrong (the
// process paused past the TTL, the backend was unreachable, a Redis
// failover). The holder learns it from Done/Context before another
// client can take the lock, as long as its clock does not run slower than
// the backend's by more than the loss margin; but work already under way
// can still reach a shared resource late. Pass Token with every write and
// have the resource refuse tokens older than the newest it has seen: that
// is what makes the lock safe.
type Lease struct {
	c    *Client
	name string
	g    Grant
	o    options
	ctx  context.Context
	end  context.CancelCauseFunc

	renewCtx  context.Context
	cancelRPC context.CancelFunc

	mu         gosync.Mutex
	lossAt     time.Time
	next       time.Time // of the next renewal
	lost       bool
	timer      *time.Timer
	stopped    bool // by release
	running    bool // a tick is under way
	finishOnce gosync.Once

	// Touched by ticks only, which never overlap.
	b    backoff.Backoff
	last error // why the lease will be lost if no renewal succeeds

	once gosync.Once
	err  error
}

func newLease(c *Client, name string, g Grant, o options, sent time.Time) *Lease {
	l := &Lease{c: c, name: name, g: g, o: o}
	l.ctx, l.end = context.WithCancelCause(context.Background())
	l.renewCtx, l.cancelRPC = context.WithCancel(context.Background())
	l.lossAt = sent.Add(o.ttl - o.lossMargin())
	return l
}

// Name is the lock's name.
func (l *Lease) Name() string { return l.name }

// Token is the fencing token: larger than that of every earlier holder of
// this lock name, on any client, ever.
func (l *Lease) Token() uint64 { return l.g.Token }

// Done is closed when the lease ends: lost, unlocked, or its Client closed.
func (l *Lease) Done() <-chan struct{} {
	l.expireIfDue()
	return l.ctx.Done()
}

// Context is cancelled when the lease ends; run the guarded work in it.
// context.Cause says why (the same as Err).
func (l *Lease) Context() context.Context {
	l.expireIfDue()
	return l.ctx
}

// Err is nil while the lease is held; then ErrLost (wrapping the cause)
// if it was lost, ErrNotHeld after Unlock, ErrClosed after Close.
func (l *Lease) Err() error {
	l.expireIfDue()
	if l.ctx.Err() == nil {
		return nil
	}
	return context.Cause(l.ctx)
}

// Deadline is when the holder will give the lease up if no renewal
// succeeds before: the latest time at which it may still act on the lock.
func (l *Lease) Deadline() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lossAt
}

var errUnlocked = fmt.Errorf("%w: unlocked", ErrNotHeld)

// Unlock releases the lock, if this lease still holds it: it never
// releases another holder's. It is idempotent; unlocking a lost lease is
// not an error. If the backend cannot be reached the lease still ends
// here, and the lock is freed by its TTL.
func (l *Lease) Unlock(ctx context.Context) error { return l.release(ctx, errUnlocked) }

func (l *Lease) release(ctx context.Context, why error) error {
	l.once.Do(func() {
		// The renewer is told to stop but not waited for (Shutdown waits for
		// it): a renewal racing the release finds the key gone or another
		// owner's, and changes nothing; lost is set first, so it cannot
		// declare a loss either.
		l.stopRenewer()
		l.mu.Lock()
		lost := l.lost
		l.lost = true
		l.mu.Unlock()
		l.c.forget(l)
		if lost {
			return
		}
		l.end(why)
		err := l.c.d.Release(ctx, l.name, l.g)
		l.c.observe(err)
		if err != nil {
			l.err = &OpError{Op: "unlock", Name: l.name, Err: err}
		}
	})
	return l.err
}

// expireIfDue ends the lease now if its deadline has passed and the timer
// has not fired yet (a timer fires late on a loaded machine): whoever asks
// Done, Context or Err after the deadline learns of the loss, however late
// the renewer runs.
func (l *Lease) expireIfDue() {
	l.mu.Lock()
	due := !l.lost && !l.c.o.now().Before(l.lossAt)
	l.mu.Unlock()
	if due {
		l.lose(errRenewLate)
	}
}

// lose ends the lease because it is, or may be, held by another now.
func (l *Lease) lose(cause error) {
	l.mu.Lock()
	if l.lost {
		l.mu.Unlock()
		return
	}
	l.lost = true
	l.mu.Unlock()
	err := fmt.Errorf("%w: %w", ErrLost, cause)
	l.end(err)
	l.c.forget(l)
	l.o.logger.Warn("sync: lease lost", "lock", l.name, "token", l.g.Token, "err", cause)
}

// jitter takes 0-20% off d, so that holders do not renew in step.
func jitter(d time.Duration) time.Duration { return d - rand.N(d/5+1) }

var errRenewLate = errors.New("no renewal confirmed before the TTL ran out")

// The renewer is a timer, not a goroutine: a lease taken and released
// between renewals costs no goroutine switch. Ticks never overlap: the
// next is scheduled when one ends.

func (l *Lease) start() {
	l.next = l.c.o.now().Add(jitter(l.o.renewEvery()))
	l.last = errRenewLate
	l.b = backoff.Backoff{Min: l.o.retryMin, Max: l.o.retryMax}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = time.AfterFunc(time.Hour, l.tick)
	l.schedule()
}

// schedule sets the timer for the next renewal or the loss, whichever
// comes first; l.mu is held.
func (l *Lease) schedule() {
	at := l.next
	if l.lossAt.Before(at) {
		at = l.lossAt
	}
	d := at.Sub(l.c.o.now())
	if l.c.fakeClock() {
		d = min(d, maxNap)
	}
	l.timer.Reset(max(d, 0))
}

// finish tells the Client the renewer is done.
func (l *Lease) finish() { l.finishOnce.Do(l.c.wg.Done) }

// stopRenewer is called by release: no tick runs after it returns but the
// one under way, which finishes the renewer when it sees stopped.
func (l *Lease) stopRenewer() {
	l.mu.Lock()
	l.stopped = true
	running := l.running
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.cancelRPC()
	if !running {
		l.finish()
	}
}

func (l *Lease) tick() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.running = true
	lossAt, next := l.lossAt, l.next
	l.mu.Unlock()
	done := l.step(lossAt, next)
	l.mu.Lock()
	l.running = false
	if done || l.stopped {
		l.mu.Unlock()
		l.finish()
		return
	}
	l.schedule()
	l.mu.Unlock()
}

// step renews if it is time; it reports whether the renewer is done.
func (l *Lease) step(lossAt, next time.Time) bool {
	c := l.c
	now := c.o.now()
	if !now.Before(lossAt) {
		l.lose(l.last)
		return true
	}
	if now.Before(next) {
		return false
	}
	// The renewal must be confirmed before the lease would be given up:
	// one that comes back later proves nothing about the time between.
	rctx, cancel := context.WithTimeout(l.renewCtx, lossAt.Sub(now))
	err := c.d.Renew(rctx, l.name, l.g, l.o.ttl)
	cancel()
	if l.renewCtx.Err() != nil {
		return true
	}
	c.observe(err)
	switch {
	case err == nil:
		l.mu.Lock()
		if l.lost {
			// Declared lost at its deadline while the renewal was on its
			// way: a lease never comes back.
			l.mu.Unlock()
			return true
		}
		l.lossAt = now.Add(l.o.ttl - l.o.lossMargin())
		l.next = now.Add(jitter(l.o.renewEvery()))
		l.mu.Unlock()
		l.b.Reset()
		l.last = errRenewLate
	case errors.Is(err, ErrNotHeld):
		l.lose(err)
		return true
	default:
		l.o.logger.Warn("sync: renewal failed; retrying", "lock", l.name, "token", l.g.Token, "err", err)
		l.last = err
		l.mu.Lock()
		l.next = c.o.now().Add(l.b.Next())
		l.mu.Unlock()
	}
	return false
}
