package log_test

import (
	"errors"
	"math"
)

var errTest = errors.New("boom")

func nanValue() float64 { return math.NaN() }
