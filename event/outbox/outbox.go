// Package outbox publishes events together with a business write: the
// transactional outbox (the "local event table"). Add inserts records in
// the caller's own database transaction; a relay (Run) publishes the
// committed ones to an event.Bus at least once, in commit order, and
// deletes them.
//
//	ob := outbox.New(db, bus) // db: database/sql with the pgx driver
//	_ = outbox.Migrate(ctx, db)
//	go ob.Run(ctx)
//	tx, _ := db.BeginTx(ctx, nil)
//	tx.ExecContext(ctx, "UPDATE orders SET state = 'paid' WHERE id = $1", id)
//	ob.Add(ctx, tx, event.Record{Type: "order.paid", Data: data})
//	tx.Commit() // the record is published iff the update is committed
//
// # PostgreSQL
//
// Migrate creates the table (default "event_outbox"), a sequence and a
// deferred constraint trigger. The trigger runs at COMMIT: it takes a
// transaction advisory lock (held until the commit is visible) and gives
// the transaction's rows the next commit sequence number, so that the
// order of that number is the order in which the transactions committed
// (a transaction that added first but committed last is published last).
// Only the commit of a transaction that added records is serialised, for
// the duration of the commit itself. Do not SET CONSTRAINTS ALL
// IMMEDIATE in a transaction that adds records: its commit order would be
// its Add order.
//
// # Delivery
//
// The relay publishes a batch (WithBatch, default 100) with one
// PublishBatch and deletes it in the same database transaction. Killed
// between the two, or when the bus fails after storing part of a batch,
// the records stay and are published again: at least once. Each
// published record carries MetaID ("outbox-id"), the same for every copy,
// for consumers to dedupe (event.DedupeBy with Key). Records keep the
// Timestamp, RootID, ParentID and trace context (event.MetaTraceparent)
// they had at Add; the bus gives them their id at publish.
//
// The relay publishes with its own ctx: on a Bus with event.WithTracer,
// each record's producer span continues the trace context Add stored (a
// child of the span that added it). Run stopped after a batch was
// published still deletes it (within lifecycle.CloseTimeout); stopped
// during PublishBatch, the batch is published again by the next relay.
// A record the bus refuses (event.ErrInvalid) stops the relay at that
// record, retried with backoff and logged: Add checks what the bus checks
// (the type).
//
// Several relays (processes) on one table take turns batch by batch under
// a transaction advisory lock: one publishes while the others wait, so
// that commit order holds across them and nothing is published twice in
// the normal case; when the publishing one dies, its session ends, the
// lock is released and another takes over. (SELECT ... FOR UPDATE SKIP
// LOCKED would let two relays publish adjacent batches at once, out of
// order.)
//
// # Errors
//
// ErrInvalid (an empty or non-UTF-8 type, a bad table name, a nil tx),
// ErrUnavailable (the database did not answer); a bus error is returned
// as the bus gave it. Check answers from the latest Add and relay batch.
package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/trace"
)

// The errors of the package.
var (
	ErrInvalid     = oserr.New(oserr.Invalid, "outbox: invalid record or option")
	ErrUnavailable = oserr.New(oserr.Unavailable, "outbox: database unavailable")
)

// MetaID is the metadata key of a record's outbox id: "<table>:<row id>",
// the same in every copy the relay publishes.
const MetaID = "outbox-id"

// Key is the record's outbox id, the same in every copy the relay
// published (its event id otherwise): dedupe a consumer with
// event.DedupeBy(window, nil, outbox.Key, handler).
func Key(r event.Record) string {
	if id := r.Metadata[MetaID]; id != "" {
		return id
	}
	return r.ID
}

// DefaultTable is the table of an Outbox without WithTable.
const DefaultTable = "event_outbox"

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// Option configures an Outbox (and Migrate: WithTable).
type Option func(*config)

type config struct {
	table              string
	logger             *slog.Logger
	batch              int
	poll               time.Duration
	retryMin, retryMax time.Duration
}

// WithTable sets the table (lower-case letters, digits, '_', at most 40).
func WithTable(name string) Option { return func(c *config) { c.table = name } }

// WithLogger sets where relay failures and retries are reported.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithBatch sets how many records the relay publishes at once (default 100).
func WithBatch(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.batch = n
		}
	}
}

// WithPoll sets how long an idle relay waits before it looks again
// (default 100ms): the latency of a record committed while it is idle.
func WithPoll(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithRetry sets the relay's backoff while the database or the bus fails:
// from min, doubling, capped at max, with jitter (default 100ms, 5s).
func WithRetry(min, max time.Duration) Option {
	return func(c *config) {
		if min > 0 && max >= min {
			c.retryMin, c.retryMax = min, max
		}
	}
}

func newConfig(opts []Option) config {
	c := config{table: DefaultTable, logger: slog.New(slog.DiscardHandler), batch: 100, poll: 100 * time.Millisecond,
		retryMin: 100 * time.Millisecond, retryMax: 5 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Outbox adds records in transactions and relays the committed ones.
type Outbox struct {
	db     *sql.DB
	bus    *event.Bus
	c      config
	bad    error // a bad option, returned by every call
	health health.Tracker
	called atomic.Bool // a call reached the database: Check answers from health
}

// New returns an Outbox on db (opened with the "pgx" driver, which this
// package registers) publishing to bus. The table must exist (Migrate).
func New(db *sql.DB, bus *event.Bus, opts ...Option) *Outbox {
	o := &Outbox{db: db, bus: bus, c: newConfig(opts)}
	if !tableName.MatchString(o.c.table) {
		o.bad = fmt.Errorf("%w: table name %q", ErrInvalid, o.c.table)
	}
	return o
}

// Migrate creates the outbox table, its sequence, indexes and commit
// trigger if they do not exist (WithTable names the table). It is safe to
// run concurrently and again.
func Migrate(ctx context.Context, db *sql.DB, opts ...Option) error {
	c := newConfig(opts)
	if !tableName.MatchString(c.table) {
		return fmt.Errorf("%w: table name %q", ErrInvalid, c.table)
	}
	t := c.table
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(ctx, err)
	}
	defer tx.Rollback()
	stmts := []string{
		`SELECT pg_advisory_xact_lock(hashtext('` + t + `'), 0)`,
		`CREATE TABLE IF NOT EXISTS ` + t + ` (
			id bigserial PRIMARY KEY,
			cseq bigint,
			txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
			type text NOT NULL,
			origin_service text NOT NULL DEFAULT '',
			origin_version text NOT NULL DEFAULT '',
			origin_instance text NOT NULL DEFAULT '',
			ts timestamptz NOT NULL,
			root_id text NOT NULL DEFAULT '',
			parent_id text NOT NULL DEFAULT '',
			metadata bytea,
			data bytea)`,
		`CREATE SEQUENCE IF NOT EXISTS ` + t + `_cseq OWNED BY ` + t + `.cseq`,
		`CREATE INDEX IF NOT EXISTS ` + t + `_order ON ` + t + ` (cseq, id)`,
		`CREATE INDEX IF NOT EXISTS ` + t + `_pending ON ` + t + ` (txid) WHERE cseq IS NULL`,
		`CREATE OR REPLACE FUNCTION ` + t + `_commit() RETURNS trigger LANGUAGE plpgsql AS $f$
		DECLARE c bigint;
		BEGIN
			SELECT cseq INTO c FROM ` + t + ` WHERE id = NEW.id;
			IF NOT FOUND OR c IS NOT NULL THEN RETURN NULL; END IF;
			PERFORM pg_advisory_xact_lock(hashtext('` + t + `'), 1);
			c := nextval('` + t + `_cseq');
			UPDATE ` + t + ` SET cseq = c WHERE txid = pg_current_xact_id() AND cseq IS NULL;
			RETURN NULL;
		END $f$`,
		`DO $d$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '` + t + `_commit' AND tgrelid = '` + t + `'::regclass) THEN
				CREATE CONSTRAINT TRIGGER ` + t + `_commit AFTER INSERT ON ` + t + `
					DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ` + t + `_commit();
			END IF;
		END $d$`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return dbErr(ctx, err)
		}
	}
	return dbErr(ctx, tx.Commit())
}

// Add inserts recs in tx, to be published once tx commits. Like
// event.Bus.Publish, a record added while an event handler runs inherits
// its RootID and ParentID from ctx; the trace context of ctx's span goes
// into the metadata (event.MetaTraceparent) unless the record has one. A
// zero Timestamp is set to now.
func (o *Outbox) Add(ctx context.Context, tx *sql.Tx, recs ...event.Record) error {
	if o.bad != nil {
		return o.bad
	}
	if tx == nil {
		return fmt.Errorf("%w: nil tx", ErrInvalid)
	}
	if len(recs) == 0 {
		return nil
	}
	parent, inHandler := event.FromContext(ctx)
	sc := trace.SpanContextFromContext(ctx)
	var q strings.Builder
	q.WriteString("INSERT INTO " + o.c.table + " (type, origin_service, origin_version, origin_instance, ts, root_id, parent_id, metadata, data) VALUES ")
	args := make([]any, 0, 9*len(recs))
	now := time.Now()
	for i, r := range recs {
		if r.Type == "" || !utf8.ValidString(r.Type) {
			return fmt.Errorf("%w: record %d: Type %q is empty or not UTF-8", ErrInvalid, i, r.Type)
		}
		if inHandler {
			r.ParentID, r.RootID = parent.ID, parent.RootID
		}
		if r.Timestamp.IsZero() {
			r.Timestamp = now
		}
		md := r.Metadata
		if sc.IsValid() && md[event.MetaTraceparent] == "" {
			md = make(map[string]string, len(r.Metadata)+1)
			for k, v := range r.Metadata {
				md[k] = v
			}
			md[event.MetaTraceparent] = trace.FormatTraceparent(sc)
		}
		var mdb []byte
		if len(md) > 0 {
			var err error
			if mdb, err = json.Marshal(md); err != nil {
				return fmt.Errorf("%w: record %d: metadata: %w", ErrInvalid, i, err)
			}
		}
		if i > 0 {
			q.WriteByte(',')
		}
		n := len(args)
		q.WriteByte('(')
		for j := 1; j <= 9; j++ {
			if j > 1 {
				q.WriteByte(',')
			}
			q.WriteByte('$')
			q.WriteString(strconv.Itoa(n + j))
		}
		q.WriteByte(')')
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		args = append(args, r.Type, r.Origin.Service, r.Origin.Version, r.Origin.Instance, r.Timestamp, r.RootID, r.ParentID, mdb, data)
	}
	_, err := tx.ExecContext(ctx, q.String(), args...)
	if err != nil {
		err = dbErr(ctx, err)
		o.observe(err)
		return err
	}
	o.observe(nil)
	return nil
}

// Run relays committed records to the bus until ctx ends, then returns
// nil: a full batch is followed at once by the next, an empty one by a
// WithPoll wait, a failure (logged) by a WithRetry backoff.
func (o *Outbox) Run(ctx context.Context) error {
	if o.bad != nil {
		return o.bad
	}
	retry := backoff.Backoff{Min: o.c.retryMin, Max: o.c.retryMax}
	for {
		n, err := o.relay(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := o.c.poll
		switch {
		case err != nil:
			o.c.logger.LogAttrs(ctx, slog.LevelWarn, "outbox: relay", slog.String("table", o.c.table), slog.Any("error", err))
			wait = retry.Next()
		case n == o.c.batch:
			retry.Reset()
			continue
		default:
			retry.Reset()
		}
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
	}
}

// relay publishes one batch (the oldest committed records) and deletes
// it, if no other relay holds the table's turn; it returns how many.
func (o *Outbox) relay(ctx context.Context) (int, error) {
	t := o.c.table
	// The transaction outlives ctx (database/sql would roll it back when
	// ctx ends): a batch published when Run is stopped is still deleted.
	tx, err := o.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		err = dbErr(ctx, err)
		o.observe(err)
		return 0, err
	}
	defer tx.Rollback()
	var mine bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtext($1), 2)`, t).Scan(&mine); err != nil {
		err = dbErr(ctx, err)
		o.observe(err)
		return 0, err
	}
	if !mine {
		o.observe(nil)
		return 0, nil // another relay is publishing
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, cseq, type, origin_service, origin_version, origin_instance, ts, root_id, parent_id, metadata, data
		FROM `+t+` WHERE cseq IS NOT NULL ORDER BY cseq, id LIMIT $1`, o.c.batch)
	if err != nil {
		err = dbErr(ctx, err)
		o.observe(err)
		return 0, err
	}
	var recs []event.Record
	var lastID, lastSeq int64
	for rows.Next() {
		var r event.Record
		var mdb []byte
		if err := rows.Scan(&lastID, &lastSeq, &r.Type, &r.Origin.Service, &r.Origin.Version, &r.Origin.Instance,
			&r.Timestamp, &r.RootID, &r.ParentID, &mdb, &r.Data); err != nil {
			rows.Close()
			err = dbErr(ctx, err)
			o.observe(err)
			return 0, err
		}
		if len(mdb) > 0 {
			if err := json.Unmarshal(mdb, &r.Metadata); err != nil {
				r.Metadata = nil // unreachable: Add wrote it from a map
			}
		}
		if r.Metadata == nil {
			r.Metadata = make(map[string]string, 1)
		}
		r.Metadata[MetaID] = t + ":" + strconv.FormatInt(lastID, 10)
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		err = dbErr(ctx, err)
		o.observe(err)
		return 0, err
	}
	if len(recs) == 0 {
		o.observe(nil)
		return 0, nil
	}
	if _, err := o.bus.PublishBatch(ctx, recs); err != nil {
		o.observe(err)
		return 0, err
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lifecycle.CloseTimeout)
	defer cancel()
	if _, err := tx.ExecContext(fctx, `DELETE FROM `+t+` WHERE cseq IS NOT NULL AND (cseq, id) <= ($1, $2)`, lastSeq, lastID); err != nil {
		err = dbErr(fctx, err)
		o.observe(err)
		return 0, err // published, not deleted: published again (at least once)
	}
	if err := tx.Commit(); err != nil {
		err = dbErr(fctx, err)
		o.observe(err)
		return 0, err
	}
	o.observe(nil)
	return len(recs), nil
}

// Check reports the health of the latest Add and relay batch (nil, or
// ErrUnavailable wrapping the latest failure) without a round trip; an
// Outbox that has made no call yet pings the database.
func (o *Outbox) Check(ctx context.Context) error {
	if o.bad != nil {
		return o.bad
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !o.called.Load() {
		err := dbErr(ctx, o.db.PingContext(ctx))
		o.observe(err)
		return err
	}
	return o.health.Check(ctx, ErrUnavailable)
}

func (o *Outbox) observe(err error) {
	o.called.Store(true)
	switch {
	case err == nil:
		o.health.Success()
	case errors.Is(err, oserr.Unavailable):
		o.health.Failure(err)
	}
}

// dbErr classes a database/sql error: ctx's own error stays as it is.
func dbErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return cerr
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
