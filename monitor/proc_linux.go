//go:build linux

package monitor

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// clkTck is USER_HZ, 100 on every Linux architecture Go supports.
const clkTck = 100

func readProcess() ProcessStats {
	var p ProcessStats
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return p
	}
	// fields after the ")" that closes comm: state is field 3; utime 14, stime 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return p
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return p
	}
	ut, _ := strconv.ParseUint(string(f[11]), 10, 64)
	st, _ := strconv.ParseUint(string(f[12]), 10, 64)
	p.CPUUser = time.Duration(ut) * time.Second / clkTck
	p.CPUSystem = time.Duration(st) * time.Second / clkTck
	if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
		if sf := bytes.Fields(statm); len(sf) > 1 {
			pages, _ := strconv.ParseUint(string(sf[1]), 10, 64)
			p.RSSBytes = pages * uint64(os.Getpagesize())
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, _ := d.Readdirnames(-1)
		d.Close()
		p.OpenFDs = len(names) - 1 // the fd Open just made
	}
	p.Available = true
	return p
}
