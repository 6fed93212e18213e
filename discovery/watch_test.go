package discovery

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	n := func(id string, port int) *Node { return &Node{ID: id, Address: "h", Port: port} }
	old := []*Service{
		{Name: "s", Version: "1", Nodes: []*Node{n("a", 1), n("b", 1), n("c", 1)}},
		{Name: "s", Version: "2", Nodes: []*Node{n("d", 1)}},
	}
	new := []*Service{
		{Name: "s", Version: "1", Nodes: []*Node{n("b", 2), n("e", 1)}},       // a gone, b changed, e new
		{Name: "s", Version: "2", Nodes: []*Node{n("c", 1), n("d", 1)}},       // c moved to version 2
		{Name: "s", Version: "3", Nodes: []*Node{n("f", 1), n("0-first", 1)}}, // new version
	}
	var got []string
	for _, ev := range diff(old, new) {
		got = append(got, ev.Type.String()+" "+ev.Version+"/"+ev.Node.ID)
		if len(ev.Services) != 3 {
			t.Fatalf("event %s carries %d services, want the new state", ev.Type, len(ev.Services))
		}
	}
	want := []string{"remove 1/a", "update 1/b", "update 2/c", "add 3/0-first", "add 1/e", "add 3/f"}
	if !slices.Equal(got, want) {
		t.Fatalf("diff =\n%v\nwant\n%v", got, want)
	}
	if evs := diff(new, new); len(evs) != 0 {
		t.Fatalf("diff of a state with itself = %v", evs)
	}
	if evs := diff(nil, nil); len(evs) != 0 {
		t.Fatalf("diff(nil, nil) = %v", evs)
	}
}

func TestNormalize(t *testing.T) {
	in := []*Service{
		{Version: "2", Nodes: []*Node{{ID: "z"}, {ID: "a"}}},
		{Version: "1", Nodes: []*Node{{ID: "m"}}},
		{Version: "3"},
		{Version: "1", Nodes: []*Node{{ID: "b"}}},
		nil,
	}
	out := normalize(in)
	var got []string
	for _, s := range out {
		for _, n := range s.Nodes {
			got = append(got, s.Version+"/"+n.ID)
		}
	}
	if want := []string{"1/b", "1/m", "2/a", "2/z"}; !slices.Equal(got, want) || len(out) != 2 {
		t.Fatalf("normalize = %v (%d services), want %v in 2", got, len(out), want)
	}
	if normalize(nil) != nil || normalize([]*Service{{Version: "x"}}) != nil {
		t.Fatal("normalize of no nodes must be nil")
	}
}
