package sync

import (
	"context"
	"errors"
	"time"

	"github.com/microos/go-os/internal/backoff"
)

// electionPrefix keeps election names apart from lock names.
const electionPrefix = "election:"

// Leader is who leads an election: the candidate value it campaigned
// with and its fencing token. The zero Leader means nobody leads.
type Leader struct {
	Candidate string
	Token     uint64
}

// Leadership is a won election: a Lease on the election whose value is
// the candidate. Like a Lease, it ends when lost, resigned or closed.
type Leadership struct {
	*Lease
	election  string
	candidate string
}

// Election is the election's name.
func (l *Leadership) Election() string { return l.election }

// Candidate is the value this leader campaigned with.
func (l *Leadership) Candidate() string { return l.candidate }

// Resign gives the leadership up, so that another candidate is elected.
// It is idempotent, and resigning a lost leadership is not an error.
func (l *Leadership) Resign(ctx context.Context) error {
	l.c.mu.Lock()
	if l.c.leading[l.election] == l {
		delete(l.c.leading, l.election)
	}
	l.c.mu.Unlock()
	return l.Unlock(ctx)
}

// Campaign blocks until candidate is elected leader of election or ctx
// is done. There is at most one leader at a time: the holder of the
// election's lock, renewed as a Lease is.
func (c *Client) Campaign(ctx context.Context, election, candidate string, opts ...Option) (*Leadership, error) {
	if err := validName(election); err != nil {
		return nil, &OpError{Op: "campaign", Name: election, Err: err}
	}
	opts = append(opts, WithValue([]byte(candidate)))
	l, err := c.lock(ctx, "campaign", electionPrefix+election, true, opts)
	if err != nil {
		var oe *OpError
		if errors.As(err, &oe) {
			oe.Name = election
		}
		return nil, err
	}
	ld := &Leadership{Lease: l, election: election, candidate: candidate}
	c.mu.Lock()
	c.leading[election] = ld
	c.mu.Unlock()
	return ld, nil
}

// Leading is this Client's live leadership of election (won by Campaign,
// neither lost nor resigned), or nil.
func (c *Client) Leading(election string) *Leadership {
	c.mu.Lock()
	defer c.mu.Unlock()
	ld := c.leading[election]
	if ld != nil && ld.Err() != nil {
		delete(c.leading, election)
		return nil
	}
	return ld
}

// Leader says who leads election: ErrNoLeader when nobody does.
func (c *Client) Leader(ctx context.Context, election string) (Leader, error) {
	if err := validName(election); err != nil {
		return Leader{}, &OpError{Op: "leader", Name: election, Err: err}
	}
	h, err := c.Holder(ctx, electionPrefix+election)
	if err != nil {
		var oe *OpError
		if errors.As(err, &oe) {
			oe.Op, oe.Name = "leader", election
		}
		return Leader{}, err
	}
	return Leader{Candidate: string(h.Value), Token: h.Token}, nil
}

// Observe streams the leaders of election: the channel always holds the
// newest (an older value not yet read is replaced), starting with the
// current one; the zero Leader means nobody leads. It is closed when ctx
// is done or the Client closes. Backends that can wait for a change
// (Consul's blocking queries) report it at once; the others are polled
// every WithPollEvery. While the backend is unreachable the last value
// stays; Check says so.
func (c *Client) Observe(ctx context.Context, election string, opts ...Option) (<-chan Leader, error) {
	if err := validName(election); err != nil {
		return nil, &OpError{Op: "observe", Name: election, Err: err}
	}
	o := c.o.with(opts)
	if !c.enter() {
		return nil, &OpError{Op: "observe", Name: election, Err: ErrClosed}
	}
	ch := make(chan Leader, 1)
	go func() {
		defer c.exit()
		defer close(ch)
		ctx, cancel := c.callCtx(ctx)
		defer cancel()
		c.watch(ctx, electionPrefix+election, o, ch)
	}()
	return ch, nil
}

func (c *Client) watch(ctx context.Context, name string, o options, ch chan Leader) {
	w, canWait := c.d.(Waiter)
	b := backoff.Backoff{Min: o.retryMin, Max: o.retryMax}
	var last Holder
	first := true
	for ctx.Err() == nil {
		var h Holder
		var err error
		if canWait && !first {
			h, err = w.WaitHolder(ctx, name, last, 5*time.Minute)
		} else {
			h, err = c.d.Holder(ctx, name)
		}
		if ctx.Err() != nil {
			return
		}
		c.observe(err)
		if errors.Is(err, ErrNoLeader) {
			h, err = Holder{}, nil
		}
		if err != nil {
			c.o.logger.Warn("sync: observe failed; retrying", "election", name, "err", err)
			if !backoff.Sleep(ctx, b.Next()) {
				return
			}
			continue
		}
		b.Reset()
		if first || h.Token != last.Token {
			publish(ch, Leader{Candidate: string(h.Value), Token: h.Token})
		}
		first, last = false, h
		if !canWait && !backoff.Sleep(ctx, o.poll) {
			return
		}
	}
}

// publish replaces whatever ch holds with v.
func publish(ch chan Leader, v Leader) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}
