package event

import (
	"context"
	"sort"
	"sync"
)

// memory is the in-process log: one ordered slice of records, group
// positions shared by the members of a group, a dead-letter list.
type memory struct {
	b      *Bus
	mu     sync.Mutex
	log    []Record
	base   int // records trimmed by retention: cursors are absolute positions
	lastMS int64
	seq    uint64
	wake   chan struct{}
	groups map[string]*cursor
	dead   []DeadLetter
	subs   map[*Subscription]struct{}
}

func newMemory(b *Bus) *memory {
	return &memory{b: b, wake: make(chan struct{}), groups: map[string]*cursor{}, subs: map[*Subscription]struct{}{}}
}

func (m *memory) append(recs []Record) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, len(recs))
	for i, r := range recs {
		now := m.b.now()
		ms := now.UnixMilli()
		if ms <= m.lastMS {
			ms = m.lastMS
			m.seq++
		} else {
			m.lastMS, m.seq = ms, 0
		}
		r.ID = formatID(ms, m.seq)
		if r.Timestamp.IsZero() {
			r.Timestamp = now
		}
		if r.RootID == "" {
			r.RootID = r.ID
		}
		m.log = append(m.log, r)
		ids[i] = r.ID
	}
	m.trim()
	close(m.wake)
	m.wake = make(chan struct{})
	return ids
}

// startIndex is the log index a new cursor begins at.
func (m *memory) startIndex(s Start) int {
	switch s.kind {
	case 1:
		return m.base
	case 2:
		return m.base + sort.Search(len(m.log), func(i int) bool { return idLess(s.id, m.log[i].ID) })
	case 3:
		return m.base + sort.Search(len(m.log), func(i int) bool { return !m.log[i].Timestamp.Before(s.t) })
	}
	return m.base + len(m.log)
}

// cursor is a subscriber's (or a whole group's) position in the log, and
// the records a stopped member left unacknowledged, served first.
type cursor struct {
	pos  int
	redo []Record
}

// giveBack returns a record whose handling was abandoned (the member
// stopped) to its group, so that another member takes it over.
func (m *memory) giveBack(cur *cursor, r Record) {
	m.mu.Lock()
	cur.redo = append(cur.redo, r)
	close(m.wake)
	m.wake = make(chan struct{})
	m.mu.Unlock()
}

func (m *memory) cursor(o SubscribeOptions) *cursor {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o.Group != "" {
		if p, ok := m.groups[o.Group]; ok {
			return p
		}
	}
	p := &cursor{pos: m.startIndex(o.Start)}
	if o.Group != "" {
		m.groups[o.Group] = p
	}
	return p
}

// next hands out the next matching record at cur, waiting for one.
func (m *memory) next(ctx context.Context, cur *cursor, o SubscribeOptions) (Record, bool) {
	for {
		if ctx.Err() != nil {
			return Record{}, false
		}
		m.mu.Lock()
		if len(cur.redo) > 0 {
			r := cur.redo[0]
			cur.redo = cur.redo[1:]
			m.mu.Unlock()
			return r, true
		}
		if cur.pos < m.base {
			cur.pos = m.base // what retention trimmed is gone, as with MAXLEN
		}
		for cur.pos-m.base < len(m.log) {
			r := m.log[cur.pos-m.base]
			cur.pos++
			if o.matches(r.Type) {
				m.mu.Unlock()
				return r, true
			}
		}
		wake := m.wake
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return Record{}, false
		case <-wake:
		}
	}
}

func (m *memory) deadLetter(r Record, group string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dead = append(m.dead, DeadLetter{Record: r, Group: group, Err: err.Error()})
}

func (m *memory) deadLetters() []DeadLetter {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DeadLetter, len(m.dead))
	for i, d := range m.dead {
		d.Record = cloneRecord(d.Record)
		out[i] = d
	}
	return out
}

func (m *memory) takeDead(id string) (Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, d := range m.dead {
		if d.Record.ID == id {
			m.dead = append(m.dead[:i], m.dead[i+1:]...)
			return d.Record, true
		}
	}
	return Record{}, false
}

func (m *memory) read(q Query) ([]Record, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sel := SubscribeOptions{Types: q.Types}
	var out []Record
	i := 0
	if q.AfterID != "" {
		i = m.startIndex(AfterID(q.AfterID)) - m.base
	}
	for ; i < len(m.log); i++ {
		r := m.log[i]
		if !sel.matches(r.Type) || (q.RootID != "" && r.RootID != q.RootID) ||
			(!q.From.IsZero() && r.Timestamp.Before(q.From)) || (!q.To.IsZero() && !r.Timestamp.Before(q.To)) {
			continue
		}
		if len(out) == q.Limit {
			return out, out[len(out)-1].ID, nil
		}
		out = append(out, cloneRecord(r))
	}
	return out, "", nil
}

// track registers a running subscription; false once Shutdown began.
func (m *memory) track(s *Subscription) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.b.closed.Load() {
		return false
	}
	m.subs[s] = struct{}{}
	return true
}

func (m *memory) untrack(s *Subscription) {
	m.mu.Lock()
	delete(m.subs, s)
	m.mu.Unlock()
}

func (m *memory) stopAll(ctx context.Context) error {
	m.mu.Lock() // after closed is set: no track can succeed past this point
	subs := make([]*Subscription, 0, len(m.subs))
	for s := range m.subs {
		subs = append(subs, s)
	}
	m.mu.Unlock()
	for _, s := range subs {
		s.cancel()
	}
	for _, s := range subs {
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// idLess orders "ms-seq" ids numerically.
func idLess(a, b string) bool {
	am, as, err1 := parseID(a)
	bm, bs, err2 := parseID(b)
	if err1 != nil || err2 != nil {
		return a < b
	}
	return am < bm || (am == bm && as < bs)
}

// trim applies the bus's retention: at most maxLen records, none older than maxAge.
func (m *memory) trim() {
	n := 0
	if l := m.b.maxLen; l > 0 && len(m.log) > l {
		n = len(m.log) - l
	}
	if age := m.b.maxAge; age > 0 {
		cut := m.b.now().Add(-age)
		for n < len(m.log) && m.log[n].Timestamp.Before(cut) {
			n++
		}
	}
	if n > 0 {
		clear(m.log[:n]) // drop the references; append reallocates the live part only
		m.log = m.log[n:]
		m.base += n
	}
}
