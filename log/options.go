package log

import (
	"log/slog"
	"time"
)

// Format is how lines are encoded.
type Format int

const (
	// JSON lines, for machines: Filebeat, Logstash, Loki, CloudWatch.
	JSON Format = iota
	// Text is slog's key=value format, for humans at a terminal.
	Text
)

func (f Format) String() string {
	if f == Text {
		return "text"
	}
	return "json"
}

// ParseFormat reads "json" or "text".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "json":
		return JSON, nil
	case "text":
		return Text, nil
	}
	return 0, invalid("format %q: want json or text", s)
}

// Option configures New and Open.
type Option func(*options)

type options struct {
	level     slog.Level
	format    Format
	outputs   []Output
	owned     []bool
	attrs     []slog.Attr
	redact    []string
	noRedact  bool
	async     []AsyncOption
	useAsync  bool
	sample    *sampleOptions
	contexts  []ContextFunc
	addSource bool
	errs      []error
}

// WithLevel sets the initial minimum level; Logger.SetLevel changes it
// later. The default is slog.LevelInfo.
func WithLevel(l slog.Level) Option { return func(o *options) { o.level = l } }

// WithFormat sets the encoding; the default is JSON.
func WithFormat(f Format) Option {
	return func(o *options) {
		if f != JSON && f != Text {
			o.errs = append(o.errs, invalid("format %d", int(f)))
		}
		o.format = f
	}
}

// WithOutput adds outputs; every line goes to each. Without one, lines go
// to stderr. Each must be safe for concurrent use, as Output says (wrap a
// plain io.Writer with WriterOutput). The Logger syncs them on Close but
// does not close them: they stay the caller's.
func WithOutput(outs ...Output) Option {
	return func(o *options) {
		for _, out := range outs {
			o.outputs = append(o.outputs, out)
			o.owned = append(o.owned, false)
		}
	}
}

// withOwnedOutput adds an output the Logger closes (Open's).
func withOwnedOutput(out Output) Option {
	return func(o *options) {
		o.outputs = append(o.outputs, out)
		o.owned = append(o.owned, true)
	}
}

// WithService adds the fields that say which process logged a line:
// "service", "version" and "instance" (empty ones are left out).
func WithService(name, version, instance string) Option {
	return func(o *options) {
		for _, a := range []slog.Attr{slog.String("service", name), slog.String("version", version), slog.String("instance", instance)} {
			if a.Value.String() != "" {
				o.attrs = append(o.attrs, a)
			}
		}
	}
}

// WithAttrs adds fields to every line, like Logger.With but encoded once.
func WithAttrs(attrs ...slog.Attr) Option {
	return func(o *options) { o.attrs = append(o.attrs, attrs...) }
}

// WithRedact adds keys to redact to DefaultRedactKeys.
func WithRedact(keys ...string) Option {
	return func(o *options) { o.redact = append(o.redact, keys...) }
}

// WithoutRedaction turns redaction off, DefaultRedactKeys included.
func WithoutRedaction() Option { return func(o *options) { o.noRedact = true } }

// WithAsync puts a bounded queue between the callers and the outputs
// (see Async): the caller encodes the line and queues it, a goroutine
// writes it. Close flushes it.
func WithAsync(opts ...AsyncOption) Option {
	return func(o *options) { o.async, o.useAsync = append(o.async, opts...), true }
}

// WithSampling rate-limits repeated messages: of the lines with the same
// level and message, the first `first` of every interval, then one in
// `thereafter` (see Sampler).
func WithSampling(first, thereafter int, interval time.Duration) Option {
	return func(o *options) { o.sample = &sampleOptions{first: first, thereafter: thereafter, per: interval} }
}

// WithContext adds ContextFuncs, run on every record logged with a ctx.
// RequestIDContext is always there.
func WithContext(funcs ...ContextFunc) Option {
	return func(o *options) { o.contexts = append(o.contexts, funcs...) }
}

// WithTraceIDs logs "trace_id" and "span_id" from the span in ctx.
func WithTraceIDs(ids TraceIDs) Option { return WithContext(TraceContext(ids)) }

// WithSource adds the caller's function, file and line to every line.
func WithSource() Option { return func(o *options) { o.addSource = true } }
