package statsdmetrics

import (
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/metrics"
)

// sendTimeout bounds a packet write, so that a full socket buffer delays a
// flush, never the callers recording.
const sendTimeout = time.Second

// reportEvery spaces the errors reported while a daemon stays down: a
// connected UDP socket fails only every other write (the kernel reports
// the ICMP refusal of the previous packet), so a success proves nothing.
const reportEvery = time.Minute

// packetSender is the cactus Sender under the client: it joins the lines of
// a flush with newlines into packets of at most max bytes. Only the flush
// (one at a time) calls it.
type packetSender struct {
	conn net.Conn
	max  int
	buf  []byte

	packets, bytes, errors atomic.Uint64
	lastReport             time.Time // when an error was last reported
	lastErr                atomic.Pointer[sendError]
	report                 atomic.Pointer[func(error)]

	// The outcome of the flushes, for Check: whether the flush under way
	// wrote a packet and whether one failed, whether the one before failed,
	// and the outage that is on (nil when healthy). Only the flush (one at
	// a time) writes them, but for outage.
	wrote, failed, failedBefore bool
	deadline                    time.Time // of Shutdown, when it has one
	outage                      atomic.Pointer[outage]
}

type outage struct {
	err       error
	since, at time.Time
}

// flushed ends a flush: a daemon is down while a flush or the one before
// it failed (a connected UDP socket fails only every other write, so one
// clean flush proves nothing), and up again after two clean ones. A flush
// that sent nothing says nothing.
func (s *packetSender) flushed() {
	if !s.wrote {
		return
	}
	if !s.failed && !s.failedBefore {
		s.outage.Store(nil)
	}
	s.failedBefore, s.wrote, s.failed = s.failed, false, false
}

// Send queues one line, sending the packet first when the line would not fit.
func (s *packetSender) Send(line []byte) (int, error) {
	if len(s.buf) > 0 && len(s.buf)+1+len(line) > s.max {
		s.flush()
	}
	if len(s.buf) > 0 {
		s.buf = append(s.buf, '\n')
	}
	s.buf = append(s.buf, line...)
	return len(line), nil
}

func (s *packetSender) flush() {
	if len(s.buf) == 0 {
		return
	}
	dl := time.Now().Add(sendTimeout)
	if !s.deadline.IsZero() && s.deadline.Before(dl) {
		dl = s.deadline
	}
	s.conn.SetWriteDeadline(dl)
	n, err := s.conn.Write(s.buf)
	s.buf = s.buf[:0]
	s.wrote = true
	if err != nil {
		now := time.Now()
		s.failed = true
		o := &outage{err: err, since: now, at: now}
		if old := s.outage.Load(); old != nil {
			o.since = old.since
		}
		s.outage.Store(o)
		s.errors.Add(1)
		s.lastErr.Store(&sendError{err: err, at: now})
		if now := time.Now(); now.Sub(s.lastReport) >= reportEvery {
			s.lastReport = now
			if r := s.report.Load(); r != nil {
				(*r)(&metrics.Error{Op: "flush", Err: metrics.Unavailable(err)})
			}
		}
		return
	}
	s.packets.Add(1)
	s.bytes.Add(uint64(n))
}

type sendError struct {
	err error
	at  time.Time
}

func (s *packetSender) Close() error { return s.conn.Close() }

func randFloat() float64    { return rand.Float64() }
func randN(n uint64) uint64 { return rand.Uint64N(n) }
