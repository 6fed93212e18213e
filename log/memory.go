package log

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
)

// Memory is an Output that keeps every line in memory: what tests assert
// on and what the demo prints. It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
	syncs  int
}

// NewMemory returns an empty in-memory Output.
func NewMemory() *Memory { return &Memory{} }

// Write appends p. After Close it returns ErrClosed.
func (m *Memory) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, fmt.Errorf("log: memory output: %w", ErrClosed)
	}
	return m.buf.Write(p)
}

// Sync records that what was written is committed; Syncs counts the calls.
func (m *Memory) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncs++
	return nil
}

// Close stops further writes; the lines written stay readable.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Bytes returns a copy of everything written.
func (m *Memory) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.buf.Bytes())
}

// Lines returns the lines written, without their newlines.
func (m *Memory) Lines() []string {
	b := bytes.TrimSuffix(m.Bytes(), []byte{'\n'})
	if len(b) == 0 {
		return nil
	}
	var out []string
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		out = append(out, string(line))
	}
	return out
}

// Entries decodes the lines written as JSON objects.
func (m *Memory) Entries() ([]map[string]any, error) {
	var out []map[string]any
	for i, line := range m.Lines() {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return out, fmt.Errorf("log: memory output: line %d is not a JSON object: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Syncs reports how many times Sync was called.
func (m *Memory) Syncs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.syncs
}

// Reset forgets the lines written so far.
func (m *Memory) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf.Reset()
}
