package log

import (
	"io"
	"os"
)

// Output is where encoded lines go: a file, stderr, an event stream. It is
// the driver of this package: the handlers, the async queue and Open are
// written once in front of it, and a new destination needs only an Output.
//
// Write receives whole lines, one or more ending in '\n' (the async queue
// hands over a batch at once); p is only valid during the call. Write may
// block on I/O but must be safe for concurrent use and must not interleave
// the bytes of concurrent calls. After Close it returns an error wrapping
// ErrClosed. An error from Write means the bytes may be lost; the Output
// itself decides whether and when to retry or reopen.
//
// Close flushes what the Output buffers, syncs it to stable storage when it
// can, and releases it; it is idempotent.
type Output interface {
	io.Writer
	Close() error
}

// Remote is an Output that writes over the network: Open puts it behind
// an Async queue that drops (and counts) when full, unless the URL chooses
// (async=false to opt out, policy=block to wait), so that a log call never
// waits on the network.
type Remote interface {
	Remote() bool
}

// Syncer is an Output that can commit what it wrote to stable storage
// (fsync for a file). Async calls it when its queue is drained on Close and
// on Flush.
type Syncer interface {
	Sync() error
}

// Stderr returns an Output writing to the process's standard error. Its
// Close does not close the file descriptor.
func Stderr() Output { return stdio{os.Stderr} }

// Stdout returns an Output writing to the process's standard output. Its
// Close does not close the file descriptor.
func Stdout() Output { return stdio{os.Stdout} }

// stdio writes through to a standard stream it does not own. *os.File
// makes each Write one atomic run of write calls.
type stdio struct{ f *os.File }

func (s stdio) Write(p []byte) (int, error) { return s.f.Write(p) }
func (s stdio) Close() error                { return nil }

// WriterOutput adapts w, which must be safe for concurrent use (or used
// from one goroutine), to an Output whose Close does nothing; w stays the
// caller's.
func WriterOutput(w io.Writer) Output { return writerOutput{concurrentSafe(w)} }

type writerOutput struct{ w io.Writer }

func (o writerOutput) Write(p []byte) (int, error) { return o.w.Write(p) }
func (o writerOutput) Close() error                { return nil }
