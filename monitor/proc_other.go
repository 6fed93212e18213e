//go:build !linux

package monitor

// readProcess has no source outside Linux: Available stays false.
func readProcess() ProcessStats { return ProcessStats{} }
