// Package compare runs our implementation and a peer library's side by side
// and prints one line per case:
//
//	name  ours_ns/op  peer_ns/op  ratio  ours_allocs  peer_allocs
//
// ratio is ours/peer: below 1 we are faster. Comparisons are ordinary tests
// in this module (go test -run Compare -v ./...), so scripts/test exercises
// them on every run; quote numbers from a run without -race.
package compare

import (
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
)

// Case is one side-by-side comparison. Ours and Peer must do the same work.
type Case struct {
	Name string
	Ours func(b *testing.B)
	Peer func(b *testing.B)
	// Goal, when set, is the largest ratio (ours/peer) the case's issue
	// allows. Under GOOS_BENCH_GOALS=1 (scripts/bench) a case above its
	// goal fails, so a regression is visible; elsewhere (-race, -short,
	// scripts/test) the goal is printed but not enforced, since the numbers
	// of an instrumented or shortened run mean nothing.
	Goal float64
}

// Result is what one case measured.
type Result struct {
	Name                   string
	OursNs, PeerNs         float64
	OursAllocs, PeerAllocs int64
}

// Ratio is ours/peer ns/op.
func (r Result) Ratio() float64 { return r.OursNs / r.PeerNs }

// Output is where the table goes; tests may redirect it.
var Output io.Writer = os.Stdout

var header sync.Once

// Rounds is how many times each side runs, alternating ours and peer; the
// fastest run of each side counts, so that a burst of load on a shared
// machine does not land on one side only.
var Rounds = 3

// Run measures every case and prints its line. Cases run one after the
// other so they never compete for the machine's cores.
func Run(t *testing.T, cases ...Case) []Result {
	t.Helper()
	header.Do(func() {
		fmt.Fprintf(Output, "%-44s %12s %12s %7s %11s %11s\n", "name", "ours_ns/op", "peer_ns/op", "ratio", "ours_allocs", "peer_allocs")
	})
	out := make([]Result, 0, len(cases))
	for _, c := range cases {
		r := Result{Name: c.Name}
		rounds := Rounds
		if testing.Short() {
			rounds = 1 // scripts/test exercises the comparisons; it does not measure
		}
		for i := 0; i < rounds; i++ {
			ours := testing.Benchmark(c.Ours)
			peer := testing.Benchmark(c.Peer)
			if ours.N == 0 || peer.N == 0 {
				t.Fatalf("%s: a side did not run (ours N=%d, peer N=%d): did it call b.Fatal?", c.Name, ours.N, peer.N)
			}
			if ns := perOp(ours); i == 0 || ns < r.OursNs {
				r.OursNs, r.OursAllocs = ns, ours.AllocsPerOp()
			}
			if ns := perOp(peer); i == 0 || ns < r.PeerNs {
				r.PeerNs, r.PeerAllocs = ns, peer.AllocsPerOp()
			}
		}
		verdict := ""
		if c.Goal > 0 {
			verdict = fmt.Sprintf("  goal <= %.2f", c.Goal)
			if r.Ratio() > c.Goal {
				verdict += " MISSED"
				if enforceGoals() {
					t.Errorf("%s: ratio %.3f is above its goal %.2f", c.Name, r.Ratio(), c.Goal)
				}
			}
		}
		fmt.Fprintf(Output, "%-44s %12.1f %12.1f %7.3f %11d %11d%s\n", r.Name, r.OursNs, r.PeerNs, r.Ratio(), r.OursAllocs, r.PeerAllocs, verdict)
		out = append(out, r)
	}
	return out
}

// enforceGoals: only scripts/bench, which runs without -race and -short,
// fails a case for its ratio.
func enforceGoals() bool { return os.Getenv("GOOS_BENCH_GOALS") == "1" && !testing.Short() }

func perOp(r testing.BenchmarkResult) float64 { return float64(r.T.Nanoseconds()) / float64(r.N) }
