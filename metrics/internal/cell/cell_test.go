package cell

import (
	"math"
	"sync"
	"testing"
)

func TestCounter(t *testing.T) {
	var c Counter
	c.Inc()
	c.Add(2)
	c.Add(0.25)
	c.Add(1 << 60)              // whole, beyond float precision of the fractional part
	c.Add(math.Copysign(0, -1)) // a negative zero adds nothing
	if got, want := c.Load(), float64(1<<60)+3.25; got != want {
		t.Fatalf("Load = %v, want %v", got, want)
	}
	if got := c.Swap(); got != float64(1<<60)+3.25 || c.Load() != 0 {
		t.Fatalf("Swap = %v, then Load = %v", got, c.Load())
	}
	c.Add(math.MaxFloat64) // too big for the integer: goes to the float
	if c.Load() != math.MaxFloat64 {
		t.Fatalf("Load = %v, want MaxFloat64", c.Load())
	}
}

func TestConcurrentSwapLosesNothing(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	var swapped float64
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				swapped += c.Swap()
			}
		}
	}()
	var adders sync.WaitGroup
	for range 4 {
		adders.Add(1)
		go func() {
			defer adders.Done()
			for range 10000 {
				c.Inc()
				c.Add(0.5)
			}
		}()
	}
	adders.Wait()
	close(stop)
	wg.Wait()
	if total := swapped + c.Swap(); total != 4*10000*1.5 {
		t.Fatalf("total = %v, want %v", total, 4*10000*1.5)
	}
}

func TestFloat(t *testing.T) {
	var f Float
	f.Store(-1.5)
	if got := f.Add(2); got != 0.5 || f.Load() != 0.5 {
		t.Fatalf("Add = %v, Load = %v", got, f.Load())
	}
}
