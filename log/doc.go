// Package log builds structured loggers on log/slog: JSON lines for ELK
// and other log pipelines, rotating files, an async queue with an explicit
// back-pressure policy, trace and request ids from ctx, sampling of
// repeated messages and redaction of secrets. It does not compete with
// slog: every piece is a slog.Handler or sits behind one, and what the
// application logs through is a *slog.Logger.
//
//	logger, err := log.Open(ctx, "file:///var/log/api.log?rotate=daily&max_backups=7&async=true")
//	// or log.New(log.WithOutput(f), log.WithService("api", version, host), log.WithAsync())
//	if err != nil {
//		return err
//	}
//	defer logger.Close() // flushes the queue and fsyncs the file
//	logger.InfoContext(ctx, "user created", "user", id)
//	slog.SetDefault(logger.Logger) // the application may; this module never does
//	http.ListenAndServe(addr, log.Middleware(logger.Logger)(mux))
//	logger.SetLevel(slog.LevelDebug) // at runtime, for every derived logger
//
// The handlers compose like any slog.Handler and each passes
// testing/slogtest: JSONHandler (the encoder: one JSON object per line, no
// allocation per record), ContextHandler (fields from ctx), RedactHandler,
// Sampler. New chains them in a fixed order in front of the outputs;
// Output is the small interface a destination implements.
//
// # Backends
//
// Outputs, picked with Open's URL or given to WithOutput:
//
//   - file:// (File): appends JSON lines for Filebeat, Fluent Bit or
//     Logstash to ship; rotates on size (max_size) and time (rotate=daily),
//     keeps max_backups rotated files, reopens on Reopen (SIGHUP after an
//     external logrotate) and recreates a file removed under it.
//   - stderr://, stdout:// (Stderr, Stdout): for containers whose runtime
//     collects the streams.
//   - redis://, rediss:// (log/redislog): appends every line to a Redis
//     Stream (XADD, trimmed with maxlen) for central aggregation; import
//     the package to register the scheme.
//   - mem:// (Memory): keeps the lines for tests and the demo.
//   - Async: a bounded queue in front of one or more outputs, written from
//     one goroutine (async=true in the URL, WithAsync in New).
//
// Any io.Writer becomes an Output with WriterOutput; a new destination (an
// output on the event package's streams, say) implements Output and
// registers its scheme with Register. The trace package plugs in through
// TraceIDs (WithTraceIDs); log/loggrpc has the gRPC interceptors.
//
// # Errors
//
// Outputs wrap their failures as ErrOutput (the disk's or network's own
// error stays reachable with errors.As), writes after Close as ErrClosed,
// lines the queue discards as ErrDropped, and bad options and URLs as
// ErrInvalidOption. slog.Logger drops the error a handler returns, so the
// counts are what a program watches: Logger.Stats (and Async.Stats,
// File.Stats) counts lines written, dropped (by the queue's policy or by
// sampling) and output errors, with the last error. Logging never panics
// and never blocks past the queue's policy: under Drop a full queue
// discards at once, under Block the caller waits for room at most
// BlockAtMost. A File that failed (disk full, I/O error) is
// reopened after a capped, jittered backoff, so writing resumes by itself
// when it can.
//
// # Health and lifecycle
//
// Logger.Check(ctx) says whether lines reach the outputs (ErrOutput,
// class unavailable; ErrDropped, class limited). Shutdown(ctx) flushes the
// queue and syncs the outputs within ctx; Close is Shutdown bounded by
// lifecycle.CloseTimeout; both are idempotent, and a nil *Logger is a
// no-op. Check(ctx) is the one health check every long-lived go-os type
// has: nil when healthy, else an error wrapping the package's sentinel (its
// oserr class answers "unavailable?", "forbidden?", "closed?") with the
// last failure and its age. It answers from what the type's own calls saw,
// never blocks past ctx, and is safe for concurrent use; the monitor
// package calls it through a one-method interface.
//
// # Wrapper order
//
// On the server side the go-os wrappers go, outermost first:
// recover → trace → metrics → log → auth → config snapshot → mux.
// The tracer first, so that the span covers everything and its ids reach
// the log lines; metrics before log, so that the time measured includes
// the logging; auth inside them, so that refused requests are still
// traced, counted and logged; the config snapshot innermost, so that the
// handler reads one version of the configuration. Every go-os wrapper that
// copies the request joins the route slot, so any order still gives the
// same route to all of them (tested over every permutation). On the client
// side: trace → metrics → log → auth → router → base transport (metrics
// outside the router, or the route label becomes a node address).
//
// # Concurrency
//
// Loggers, handlers and outputs are safe for concurrent use; an Output
// must not interleave concurrent Writes. JSONHandler hands each line to
// the output in one Write. Async writes from a single goroutine in the
// order lines were queued; Logger.Close (or Shutdown with a deadline)
// writes everything queued, fsyncs and closes the outputs the Logger
// created, and leaves no goroutine behind: once it returns, a crash loses
// nothing that was logged before it.
package log
