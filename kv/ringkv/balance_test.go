package ringkv

import (
	"slices"
	"strconv"
	"testing"
)

// With the default 1024 virtual nodes, 5 instances and 100k keys, the
// instance that is primary for the most keys has at most 10% more than
// the mean; and so for the copies (N=2) each holds.
func TestBalance(t *testing.T) {
	r := &Ring{o: options{points: 1024, replicas: 2}}
	var peers []string
	for i := 1; i <= 5; i++ {
		peers = append(peers, "http://10.0.0."+strconv.Itoa(i)+":8080/_kv")
	}
	v, err := r.makeView(peers)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 100_000
	primaries, copies := make([]int, 5), make([]int, 5)
	var buf [4]int
	for i := 0; i < keys; i++ {
		pref := v.pref("user:"+strconv.Itoa(i), buf[:0])
		primaries[pref[0]]++
		for _, m := range pref {
			copies[m]++
		}
	}
	p := float64(slices.Max(primaries)) / (keys / 5.0)
	c := float64(slices.Max(copies)) / (2 * keys / 5.0)
	t.Logf("5 instances, %d keys, 1024 virtual nodes: primaries max/mean = %.4f %v; copies (N=2) max/mean = %.4f %v", keys, p, primaries, c, copies)
	if p > 1.1 || c > 1.1 {
		t.Fatalf("max/mean primaries %.4f, copies %.4f: want <= 1.1", p, c)
	}
}
