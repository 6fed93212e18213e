package log

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// The logging methods of *slog.Logger, shadowed so that a nil *Logger is a
// no-op (OpenTelemetry-Go's rule for recording types): a library can take
// an optional *Logger and log without checking it. They record the
// caller's source position exactly as slog's own do.

var discard = slog.New(slog.DiscardHandler)

// Slog returns the *slog.Logger to pass on to code that wants one; for a
// nil *Logger, one that discards everything.
func (l *Logger) Slog() *slog.Logger {
	if l == nil || l.Logger == nil {
		return discard
	}
	return l.Logger
}

// Handler returns the Logger's handler (a discarding one when l is nil).
func (l *Logger) Handler() slog.Handler { return l.Slog().Handler() }

// With returns a *slog.Logger that adds args to every line.
func (l *Logger) With(args ...any) *slog.Logger { return l.Slog().With(args...) }

// WithGroup returns a *slog.Logger that puts every attribute in group name.
func (l *Logger) WithGroup(name string) *slog.Logger { return l.Slog().WithGroup(name) }

// Enabled reports whether l logs records of level; false when l is nil.
func (l *Logger) Enabled(ctx context.Context, level slog.Level) bool {
	if l == nil || l.Logger == nil {
		return false
	}
	return l.Logger.Enabled(ctx, level)
}

func (l *Logger) Debug(msg string, args ...any) {
	l.log(context.Background(), slog.LevelDebug, msg, args)
}
func (l *Logger) Info(msg string, args ...any) {
	l.log(context.Background(), slog.LevelInfo, msg, args)
}
func (l *Logger) Warn(msg string, args ...any) {
	l.log(context.Background(), slog.LevelWarn, msg, args)
}
func (l *Logger) Error(msg string, args ...any) {
	l.log(context.Background(), slog.LevelError, msg, args)
}

func (l *Logger) DebugContext(ctx context.Context, msg string, args ...any) {
	l.log(ctx, slog.LevelDebug, msg, args)
}

func (l *Logger) InfoContext(ctx context.Context, msg string, args ...any) {
	l.log(ctx, slog.LevelInfo, msg, args)
}

func (l *Logger) WarnContext(ctx context.Context, msg string, args ...any) {
	l.log(ctx, slog.LevelWarn, msg, args)
}

func (l *Logger) ErrorContext(ctx context.Context, msg string, args ...any) {
	l.log(ctx, slog.LevelError, msg, args)
}

// Log logs at level.
func (l *Logger) Log(ctx context.Context, level slog.Level, msg string, args ...any) {
	l.log(ctx, level, msg, args)
}

// LogAttrs is the more efficient Log.
func (l *Logger) LogAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if !l.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip Callers and LogAttrs
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.AddAttrs(attrs...)
	l.handle(ctx, r)
}

// log is slog.Logger.log: the caller is three frames up.
func (l *Logger) log(ctx context.Context, level slog.Level, msg string, args []any) {
	if !l.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip Callers, log and the exported method
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.Add(args...)
	l.handle(ctx, r)
}

func (l *Logger) handle(ctx context.Context, r slog.Record) {
	if ctx == nil {
		ctx = context.Background()
	}
	_ = l.Logger.Handler().Handle(ctx, r)
}
