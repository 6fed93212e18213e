package event

import (
	"context"
	"sort"
	"sync"
	"time"
)

// memory is the in-process log: one ordered slice of records, group
// positions shared by the members of a group, a dead-letter list.
type memory struct {
	now    func() time.Time
	maxLen int
	maxAge time.Duration
	mu     sync.Mutex
	log    []Record
	base   int // records trimmed by retention: cursors are absolute positions
	lastMS int64
	seq    uint64
	wake   chan struct{}
	groups map[string]*cursor
	dead   []DeadLetter
}

func newMemory(now func() time.Time, maxLen int, maxAge time.Duration) *memory {
	return &memory{now: now, maxLen: maxLen, maxAge: maxAge, wake: make(chan struct{}), groups: map[string]*cursor{}}
}

func (m *memory) Append(ctx context.Context, recs []Record) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, len(recs))
	for i, r := range recs {
		now := m.now()
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
		m.log = append(m.log, cloneRecord(r)) // the caller may reuse its Data and Metadata
		ids[i] = r.ID
	}
	m.trim()
	close(m.wake)
	m.wake = make(chan struct{})
	return ids, nil
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

// memCursor is one subscription's view of a cursor.
type memCursor struct {
	m   *memory
	cur *cursor
	o   SubscribeOptions
}

// Release returns a record whose handling was abandoned (the member
// stopped) to its group, so that another member takes it over. A
// broadcast subscriber's abandoned record is nobody else's.
func (c *memCursor) Release(_ context.Context, r Record) error {
	if c.o.Group == "" {
		return nil
	}
	m := c.m
	m.mu.Lock()
	c.cur.redo = append(c.cur.redo, r)
	close(m.wake)
	m.wake = make(chan struct{})
	m.mu.Unlock()
	return nil
}

// Check: memory is always healthy.
func (c *memCursor) Check(context.Context) error { return nil }

// Close: a memory cursor holds nothing.
func (c *memCursor) Close() error { return nil }

// Ack: a memory record is acknowledged by being handed out.
func (c *memCursor) Ack(context.Context, Record) error { return nil }

func (m *memory) Cursor(_ context.Context, o SubscribeOptions) (Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o.Group != "" {
		if p, ok := m.groups[o.Group]; ok {
			return &memCursor{m, p, o}, nil
		}
	}
	p := &cursor{pos: m.startIndex(o.Start)}
	if o.Group != "" {
		m.groups[o.Group] = p
	}
	return &memCursor{m, p, o}, nil
}

// Next hands out the next matching record, waiting for one.
func (c *memCursor) Next(ctx context.Context) (Record, error) {
	m, cur, o := c.m, c.cur, c.o
	for {
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
		m.mu.Lock()
		if len(cur.redo) > 0 {
			r := cur.redo[0]
			cur.redo = cur.redo[1:]
			m.mu.Unlock()
			return r, nil
		}
		if cur.pos < m.base {
			cur.pos = m.base // what retention trimmed is gone, as with MAXLEN
		}
		for cur.pos-m.base < len(m.log) {
			r := m.log[cur.pos-m.base]
			cur.pos++
			if o.matches(r.Type) {
				m.mu.Unlock()
				return r, nil
			}
		}
		wake := m.wake
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return Record{}, ctx.Err()
		case <-wake:
		}
	}
}

func (m *memory) DeadLetter(_ context.Context, d DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d.Record = cloneRecord(d.Record)
	m.dead = append(m.dead, d)
	return nil
}

func (m *memory) DeadLetters(context.Context) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DeadLetter, len(m.dead))
	for i, d := range m.dead {
		d.Record = cloneRecord(d.Record)
		out[i] = d
	}
	return out, nil
}

func (m *memory) TakeDead(_ context.Context, id string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, d := range m.dead {
		if d.Record.ID == id {
			m.dead = append(m.dead[:i], m.dead[i+1:]...)
			return d.Record, true, nil
		}
	}
	return Record{}, false, nil
}

func (m *memory) Read(_ context.Context, q Query) ([]Record, string, error) {
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

// Check: memory is always healthy.
func (m *memory) Check(context.Context) error { return nil }

// As: the memory driver has no client.
func (m *memory) As(any) bool { return false }

// Close: nothing to release.
func (m *memory) Close() error { return nil }

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
	if l := m.maxLen; l > 0 && len(m.log) > l {
		n = len(m.log) - l
	}
	if age := m.maxAge; age > 0 {
		cut := m.now().Add(-age)
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
