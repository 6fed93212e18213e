package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/microos/go-os/internal/lifecycle"
)

type netDialer = net.Dialer

func closeBounded(f func(context.Context) error) error { return lifecycle.Close(f) }

// Status is the service's overall state.
type Status string

const (
	StatusStarting  Status = "starting"  // some check has no result yet
	StatusRunning   Status = "running"   // every check passes
	StatusDegraded  Status = "degraded"  // a non-critical check fails
	StatusUnhealthy Status = "unhealthy" // a critical check fails
	StatusStopping  Status = "stopping"  // Shutdown was called
)

// Transition is one status change.
type Transition struct {
	At   time.Time `json:"at"`
	From Status    `json:"from,omitempty"`
	To   Status    `json:"to"`
}

// CheckState is one check as /status and sinks see it.
type CheckState struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Critical    bool           `json:"critical"`
	OK          bool           `json:"ok"` // damped state, fresh result
	Error       string         `json:"error,omitempty"`
	LastRun     time.Time      `json:"last_run"`
	Duration    time.Duration  `json:"duration_ns"`
	Age         time.Duration  `json:"age_ns"`
	Since       time.Time      `json:"since"`
	Interval    time.Duration  `json:"interval_ns"`
	Runs        uint64         `json:"runs"`
	Failures    uint64         `json:"failures"`
	History     []HistoryPoint `json:"history"`
	err         error
}

// Err is the check's last error (ErrStale or ErrNoResult when it has none
// fresh).
func (s CheckState) Err() error { return s.err }

// Report is everything the monitor knows at one instant.
type Report struct {
	Service     Service        `json:"service"`
	Status      Status         `json:"status"`
	Since       time.Time      `json:"since"`
	Time        time.Time      `json:"time"`
	Uptime      time.Duration  `json:"uptime_ns"`
	Ready       bool           `json:"ready"`
	Transitions []Transition   `json:"transitions"`
	Checks      []CheckState   `json:"checks"`
	Stats       *Stats         `json:"stats,omitempty"`
	Sinks       []SinkState    `json:"sinks,omitempty"`
	Sections    map[string]any `json:"sections,omitempty"`
}

func (c *check) state(now time.Time) CheckState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CheckState{Name: c.name, Description: c.cfg.description, Critical: c.cfg.critical,
		Interval: c.cfg.interval, Runs: c.runs, Failures: c.fails, Duration: c.lastDur, Since: c.since}
	n := min(c.hn, historyLen)
	s.History = make([]HistoryPoint, 0, n)
	for i := c.hn - n; i < c.hn; i++ {
		s.History = append(s.History, c.history[i%historyLen])
	}
	if !c.hasRes.Load() {
		s.err = ErrNoResult
	} else {
		s.LastRun = time.Unix(0, c.lastNS.Load())
		s.Age = now.Sub(s.LastRun)
		switch {
		case s.Age > c.cfg.maxAge:
			s.err = fmt.Errorf("%w: last result %v old (max %v)", ErrStale, s.Age.Round(time.Millisecond), c.cfg.maxAge)
		case !c.healthy.Load():
			s.err = c.lastErr
			if s.err == nil { // damped: still failing, last run passed
				s.err = errors.New("monitor: failing (damped: last run passed)")
			}
		}
		s.OK = s.err == nil
	}
	if s.err != nil {
		s.Error = s.err.Error()
	}
	return s
}

func (m *Monitor) computeStatus() Status {
	if m.stopping.Load() {
		return StatusStopping
	}
	now := m.now()
	st := StatusRunning
	for _, c := range *m.checks.Load() {
		if !c.hasRes.Load() {
			return StatusStarting
		}
		if !c.effective(now.UnixNano()) {
			if c.cfg.critical {
				st = StatusUnhealthy
			} else if st == StatusRunning {
				st = StatusDegraded
			}
		}
	}
	return st
}

// recompute updates the status and records a transition when it changed.
func (m *Monitor) recompute() Status {
	st := m.computeStatus()
	m.stMu.Lock()
	defer m.stMu.Unlock()
	if st != m.status {
		m.transitions = append(m.transitions, Transition{At: m.now(), From: m.status, To: st})
		if len(m.transitions) > 100 {
			m.transitions = append(m.transitions[:0:0], m.transitions[len(m.transitions)-100:]...)
		}
		m.log.Info("monitor: status", "from", m.status, "to", st)
		m.status = st
	}
	m.notify()
	return st
}

// Status returns the current status.
func (m *Monitor) Status() Status { return m.recompute() }

// Checks returns the state of every check, sorted by name.
func (m *Monitor) Checks() []CheckState {
	now := m.now()
	cs := *m.checks.Load()
	out := make([]CheckState, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.state(now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckState returns one check's state.
func (m *Monitor) CheckState(name string) (CheckState, bool) {
	m.mu.Lock()
	c := m.byName[name]
	m.mu.Unlock()
	if c == nil {
		return CheckState{}, false
	}
	return c.state(m.now()), true
}

// Report returns the status, checks and stats now (without the optional
// sections; the HTTP handler adds those).
func (m *Monitor) Report() Report {
	st := m.recompute()
	now := m.now()
	m.stMu.Lock()
	tr := append([]Transition(nil), m.transitions...)
	m.stMu.Unlock()
	r := Report{Service: m.o.service, Status: st, Time: now, Uptime: now.Sub(m.start), Ready: m.Ready(), Transitions: tr, Checks: m.Checks()}
	r.Since = tr[len(tr)-1].At
	for _, s := range m.sinks {
		r.Sinks = append(r.Sinks, s.state())
	}
	return r
}

// Check is the monitor's own health: nil unless a sink's last publish
// failed (wrapping ErrSink, the sink's error and its age), or it is closed.
func (m *Monitor) Check(ctx context.Context) error {
	if m.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for _, s := range m.sinks {
		if st := s.state(); st.Error != "" {
			errs = append(errs, fmt.Errorf("%w: %s: %s (failing for %v)", ErrSink, st.Name, st.Error, m.now().Sub(st.FailingSince).Round(time.Millisecond)))
		}
	}
	return errors.Join(errs...)
}

// Service returns the identity set by WithService.
func (m *Monitor) Service() Service { return m.o.service }
