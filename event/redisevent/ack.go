package redisevent

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/backoff"
)

// maxPendingAcks bounds the acknowledgements an acker holds while Redis
// cannot take them: past it the oldest are let go, and their records are
// redelivered after Options.Visibility (at least once, as after a crash).
const maxPendingAcks = 100_000

// acker sends a group's acknowledgements in its own goroutine, so that a
// worker asks for its next record at once instead of after an XACK round
// trip: Ack queues the id, and ackDelay after the first id queued the
// acker sends all that queued (one XACK per stream with all its ids), so
// that an Ack wakes no goroutine and a backlog's acks share pipelines. An
// acknowledgement queued but not sent when the process dies only means a
// redelivery, which a group's at-least-once delivery allows anyway;
// Close sends what is queued before it returns.
type acker struct {
	c     redis.UniversalClient
	group string
	// observe records each flush's outcome in the cursor's health.
	observe func(error)
	retry   backoff.Backoff

	mu      sync.Mutex
	pending map[string][]string // stream key -> ids, in Ack order
	n       int

	armed bool        // timer is set to fire for what is pending
	timer *time.Timer // fires ackDelay after the first id queued since a flush
	stop  chan struct{}
	done  chan struct{}
}

func newAcker(c redis.UniversalClient, group string, observe func(error), retryMin, retryMax time.Duration) *acker {
	a := &acker{c: c, group: group, observe: observe, retry: backoff.Backoff{Min: retryMin, Max: retryMax},
		pending: map[string][]string{}, timer: time.NewTimer(time.Hour), stop: make(chan struct{}), done: make(chan struct{})}
	a.timer.Stop()
	go a.run()
	return a
}

// add queues the acknowledgement of id on stream.
func (a *acker) add(stream, id string) {
	a.mu.Lock()
	a.pending[stream] = append(a.pending[stream], id)
	a.n++
	if a.n > maxPendingAcks { // Redis has refused them for a while: keep the newest
		for k, ids := range a.pending {
			drop := min(len(ids), a.n-maxPendingAcks)
			a.pending[k] = ids[drop:]
			a.n -= drop
			if a.n <= maxPendingAcks {
				break
			}
		}
	}
	if !a.armed {
		a.armed = true
		a.timer.Reset(ackDelay)
	}
	a.mu.Unlock()
}

// ackDelay is how long an acknowledgement may wait for others to go with
// it: at most that much more is redelivered after a crash.
const ackDelay = time.Millisecond

func (a *acker) run() {
	defer close(a.done)
	for {
		select {
		case <-a.stop:
			return
		case <-a.timer.C:
		}
		a.mu.Lock()
		a.armed = false // what is queued from now on sets it again
		a.mu.Unlock()
		for {
			err := a.flush(context.Background())
			if err == nil {
				a.retry.Reset()
				break
			}
			if !backoff.SleepDone(a.stop, a.retry.Next()) {
				return
			}
		}
	}
}

// flush sends what is pending in one pipeline; the ids of a stream whose
// XACK failed go back in front of what was queued meanwhile.
func (a *acker) flush(ctx context.Context) error {
	a.mu.Lock()
	batch := a.pending
	if a.n == 0 {
		a.mu.Unlock()
		return nil
	}
	a.pending, a.n = make(map[string][]string, len(batch)), 0
	a.mu.Unlock()
	keys := make([]string, 0, len(batch))
	cmds := make([]*redis.IntCmd, 0, len(batch))
	if len(batch) == 1 {
		for k, ids := range batch {
			keys, cmds = append(keys, k), append(cmds, a.c.XAck(ctx, k, a.group, ids...))
		}
	} else {
		_, _ = a.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for k, ids := range batch {
				keys, cmds = append(keys, k), append(cmds, p.XAck(ctx, k, a.group, ids...))
			}
			return nil
		})
	}
	var err error
	for i, cmd := range cmds {
		e := cmd.Err()
		if e == nil || strings.HasPrefix(e.Error(), "NOGROUP") {
			delete(batch, keys[i]) // sent, or the group is gone with what it had pending (a restart without persistence)
		} else if err == nil {
			err = mapErr(e)
		}
	}
	a.observe(err)
	if len(batch) > 0 { // to be sent again, before what was queued meanwhile
		a.mu.Lock()
		for k, ids := range batch {
			a.pending[k] = append(ids, a.pending[k]...)
			a.n += len(ids)
		}
		a.mu.Unlock()
	}
	return err
}

// close stops the goroutine and sends what is pending, within ctx.
func (a *acker) close(ctx context.Context) error {
	close(a.stop)
	<-a.done
	a.timer.Stop()
	return a.flush(ctx)
}
