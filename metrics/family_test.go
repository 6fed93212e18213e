package metrics

import "testing"

// Two label sets whose hashes collide keep their own series.
func TestHashCollision(t *testing.T) {
	m := NewMemory()
	c := m.Counter("collide_total", Labels("k"))
	f := c.f
	a := f.add(7, []string{"a"})
	b := f.add(7, []string{"b"})
	if a == b {
		t.Fatal("colliding label sets share a series")
	}
	if f.add(7, []string{"a"}) != a || f.add(7, []string{"b"}) != b {
		t.Fatal("a colliding label set was not found again")
	}
	a.Inc()
	b.Add(2)
	snap, _ := m.Snapshot()
	if snap.Value("collide_total", "k", "a") != 1 || snap.Value("collide_total", "k", "b") != 2 {
		t.Fatalf("snapshot = %v", snap)
	}
}
