package outbox_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/outbox"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/trace"
)

func TestMain(m *testing.M) {
	if os.Getenv("OUTBOX_CHILD_TABLE") != "" {
		os.Exit(child())
	}
	goleak.VerifyTestMain(m)
}

// child is the relay that TestRelayKilled SIGKILLs: the test binary
// re-executed, relaying the table to the Redis bus until killed.
func child() int {
	db, err := sql.Open("pgx", os.Getenv("OUTBOX_CHILD_DB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rc := redis.NewClient(&redis.Options{Addr: os.Getenv("OUTBOX_CHILD_REDIS")})
	bus := redisevent.New(rc, redisevent.Options{Prefix: os.Getenv("OUTBOX_CHILD_PREFIX")})
	ob := outbox.New(db, bus, outbox.WithTable(os.Getenv("OUTBOX_CHILD_TABLE")), outbox.WithBatch(50))
	_ = ob.Run(context.Background())
	return 0
}

func openDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	db, err := sql.Open("pgx", testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "obx_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if err := outbox.Migrate(ctx, db, outbox.WithTable(table)); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Migrate(ctx, db, outbox.WithTable(table)); err != nil { // again: idempotent
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP TABLE IF EXISTS " + table + " CASCADE")
		_, _ = db.Exec("DROP FUNCTION IF EXISTS " + table + "_commit()")
	})
	return db, table
}

// add commits one transaction adding one record per type.
func add(t testing.TB, ctx context.Context, db *sql.DB, ob *outbox.Outbox, types ...string) {
	t.Helper()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range types {
		if err := ob.Add(ctx, tx, event.Record{Type: typ, Data: []byte(typ)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func pending(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// run starts relays and returns a stop that waits for them.
func run(t testing.TB, obs ...*outbox.Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, ob := range obs {
		wg.Go(func() {
			if err := ob.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// drain waits until the table is empty, reading it (a condition, with a deadline).
func drain(t testing.TB, db *sql.DB, table string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for pending(t, db, table) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records still in %s", pending(t, db, table), table)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readAll(t testing.TB, bus *event.Bus) []event.Record {
	t.Helper()
	var all []event.Record
	q := event.Query{Limit: 1000}
	for {
		recs, next, err := bus.Read(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
		if next == "" {
			return all
		}
		q.AfterID = next
	}
}

func types(recs []event.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Type)
	}
	return strings.Join(s, " ")
}

func TestCommitOrderAndRollback(t *testing.T) {
	db, table := openDB(t)
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	ob := outbox.New(db, bus, outbox.WithTable(table), outbox.WithPoll(time.Millisecond))

	// t1 adds first and commits last: published after t2.
	t1, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Add(ctx, t1, event.Record{Type: "a.1"}, event.Record{Type: "a.2"}); err != nil {
		t.Fatal(err)
	}
	t2, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Add(ctx, t2, event.Record{Type: "b.1"}); err != nil {
		t.Fatal(err)
	}
	rb, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Add(ctx, rb, event.Record{Type: "rolled.back"}); err != nil {
		t.Fatal(err)
	}
	if err := t2.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := rb.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	add(t, ctx, db, ob, "c.1")
	if n := pending(t, db, table); n != 4 {
		t.Fatalf("%d rows in the table, want 4 (the rolled back one is not there)", n)
	}
	stop := run(t, ob)
	drain(t, db, table)
	stop()
	got := readAll(t, bus)
	if s := types(got); s != "b.1 a.1 a.2 c.1" {
		t.Fatalf("bus has %q, want commit order %q", s, "b.1 a.1 a.2 c.1")
	}
	for _, r := range got {
		if !strings.HasPrefix(r.Metadata[outbox.MetaID], table+":") {
			t.Errorf("%s: outbox id %q", r.Type, r.Metadata[outbox.MetaID])
		}
	}
	if err := ob.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAddInheritsFromContext(t *testing.T) {
	db, table := openDB(t)
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	ob := outbox.New(db, bus, outbox.WithTable(table), outbox.WithPoll(time.Millisecond))

	// A record added while a handler runs: its RootID and ParentID, and the
	// trace context of the handler's span.
	tr, _ := trace.NewMemory(trace.WithSampler(trace.Always()))
	defer tr.Close()
	src := event.NewMemory(event.WithTracer(tr))
	defer src.Close()
	done := make(chan error, 1)
	var handlerSpan trace.SpanContext
	sub, err := src.Subscribe(ctx, func(hctx context.Context, r event.Record) error {
		handlerSpan = trace.SpanContextFromContext(hctx)
		tx, err := db.BeginTx(hctx, nil)
		if err == nil {
			err = ob.Add(hctx, tx, event.Record{Type: "child", Metadata: map[string]string{"k": "v"}})
		}
		if err == nil {
			err = tx.Commit()
		}
		done <- err
		return nil
	}, event.SubscribeOptions{Start: event.FromBeginning})
	if err != nil {
		t.Fatal(err)
	}
	rootID, err := src.Publish(ctx, event.Record{Type: "root"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("not handled")
	}
	sub.Stop()
	stop := run(t, ob)
	drain(t, db, table)
	stop()
	got := readAll(t, bus)
	if len(got) != 1 {
		t.Fatalf("bus has %d records", len(got))
	}
	r := got[0]
	if r.RootID != rootID || r.ParentID != rootID {
		t.Errorf("RootID %q ParentID %q, want %q", r.RootID, r.ParentID, rootID)
	}
	if want := trace.FormatTraceparent(handlerSpan); !handlerSpan.IsValid() || r.Metadata[event.MetaTraceparent] != want {
		t.Errorf("traceparent %q, want the handler's %q", r.Metadata[event.MetaTraceparent], want)
	}
	if r.Metadata["k"] != "v" || r.Timestamp.IsZero() {
		t.Errorf("metadata %v, timestamp %v", r.Metadata, r.Timestamp)
	}
}

func TestInvalid(t *testing.T) {
	db, table := openDB(t)
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	ob := outbox.New(db, bus, outbox.WithTable(table))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := ob.Add(ctx, tx, event.Record{}); !errors.Is(err, outbox.ErrInvalid) || oserr.Code(err) != oserr.Invalid {
		t.Errorf("empty type: %v", err)
	}
	if err := ob.Add(ctx, nil, event.Record{Type: "x"}); !errors.Is(err, outbox.ErrInvalid) {
		t.Errorf("nil tx: %v", err)
	}
	bad := outbox.New(db, bus, outbox.WithTable("x; DROP TABLE y"))
	if err := bad.Add(ctx, tx, event.Record{Type: "x"}); !errors.Is(err, outbox.ErrInvalid) {
		t.Errorf("bad table: %v", err)
	}
	if err := outbox.Migrate(ctx, db, outbox.WithTable("Bad-Name")); !errors.Is(err, outbox.ErrInvalid) {
		t.Errorf("Migrate bad table: %v", err)
	}
}

func TestCheckUnavailable(t *testing.T) {
	db, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ob := outbox.New(db, event.NewMemory())
	err = ob.Check(context.Background())
	if !errors.Is(err, outbox.ErrUnavailable) || oserr.Code(err) != oserr.Unavailable {
		t.Fatalf("Check on a closed port: %v", err)
	}
}

// TestTwoRelays: two relays on one table publish everything once, in order.
func TestTwoRelays(t *testing.T) {
	db, table := openDB(t)
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	a := outbox.New(db, bus, outbox.WithTable(table), outbox.WithBatch(20), outbox.WithPoll(time.Millisecond))
	b := outbox.New(db, bus, outbox.WithTable(table), outbox.WithBatch(20), outbox.WithPoll(time.Millisecond))
	stop := run(t, a, b)
	const txs, per = 100, 5
	var want []string
	for i := range txs {
		var ts []string
		for j := range per {
			ts = append(ts, fmt.Sprintf("r.%d.%d", i, j))
		}
		want = append(want, ts...)
		add(t, ctx, db, a, ts...) // while both relays run
	}
	drain(t, db, table)
	stop()
	got := readAll(t, bus)
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Metadata[outbox.MetaID]]++
	}
	dups := len(got) - len(seen)
	t.Logf("%d records committed, %d published, %d duplicates", len(want), len(got), dups)
	if dups != 0 {
		t.Errorf("%d duplicates with two healthy relays", dups)
	}
	if s, w := types(got), strings.Join(want, " "); s != w {
		t.Fatalf("bus order differs from commit order:\n got %.200s\nwant %.200s", s, w)
	}
}

// TestRelayKilled: a relay (a child process) SIGKILLed while publishing a
// backlog to Redis loses nothing: a second relay publishes the rest; every
// committed record is in the stream at least once, in commit order of
// first appearance; duplicates are counted.
func TestRelayKilled(t *testing.T) {
	db, table := openDB(t)
	addr := testenv.Redis(t)
	ctx := context.Background()
	prefix := "outboxtest:" + table + ":"
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	t.Cleanup(func() {
		keys, _ := rc.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rc.Del(ctx, keys...)
		}
	})
	bus := redisevent.New(rc, redisevent.Options{Prefix: prefix})
	defer bus.Close()
	ob := outbox.New(db, bus, outbox.WithTable(table), outbox.WithPoll(time.Millisecond))

	const n = 5000
	var ids []int64
	for i := 0; i < n; i += 500 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs := make([]event.Record, 500)
		for j := range recs {
			recs[j] = event.Record{Type: "order.placed", Data: []byte(strconv.Itoa(i + j))}
		}
		if err := ob.Add(ctx, tx, recs...); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query("SELECT id FROM " + table + " ORDER BY cseq, id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Close(); len(ids) != n {
		t.Fatalf("%d rows committed, want %d", len(ids), n)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OUTBOX_CHILD_TABLE="+table, "OUTBOX_CHILD_DB="+testenv.Postgres(t),
		"OUTBOX_CHILD_REDIS="+addr, "OUTBOX_CHILD_PREFIX="+prefix)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stream := prefix + "{order.placed}"
	deadline := time.Now().Add(60 * time.Second)
	for {
		l, _ := rc.XLen(ctx, stream).Result()
		if l > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("the child relay published nothing")
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	left := pending(t, db, table)
	inStream, _ := rc.XLen(ctx, stream).Result()
	t.Logf("child killed with %d records in the stream, %d rows left in the table", inStream, left)
	if left == 0 {
		t.Fatal("the child relayed the whole backlog before it was killed: nothing tested")
	}

	stop := run(t, ob)
	drain(t, db, table)
	stop()
	got := readAll(t, bus)
	count := map[string]int{}
	var firsts []string
	for _, r := range got {
		id := r.Metadata[outbox.MetaID]
		if count[id] == 0 {
			firsts = append(firsts, id)
		}
		count[id]++
	}
	dups := len(got) - len(count)
	t.Logf("%d committed, %d in the stream, %d duplicates", n, len(got), dups)
	var missing int
	for i, id := range ids {
		key := table + ":" + strconv.FormatInt(id, 10)
		if count[key] == 0 {
			missing++
		}
		if i < len(firsts) && firsts[i] != key {
			t.Fatalf("record %d of commit order is %s in the stream, want %s", i, firsts[i], key)
		}
	}
	if missing > 0 || len(count) != n {
		t.Fatalf("%d committed records missing from the stream (%d distinct there)", missing, len(count))
	}
	// A consumer deduping by outbox.Key handles each committed record
	// once, duplicates and all.
	handled := 0
	h := event.DedupeBy(time.Hour, nil, outbox.Key, func(context.Context, event.Record) error { handled++; return nil })
	for _, r := range got {
		if err := h(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if handled != n {
		t.Fatalf("DedupeBy(outbox.Key) handled %d of %d records (%d copies)", handled, n, len(got))
	}
}

func BenchmarkAdd(b *testing.B) {
	db, table := openDB(b)
	ctx := context.Background()
	ob := outbox.New(db, event.NewMemory(), outbox.WithTable(table))
	data := []byte(`{"order":12345,"state":"paid"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := ob.Add(ctx, tx, event.Record{Type: "order.paid", Data: data}); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsertBaseline is the same transaction with a plain INSERT of
// the same columns into a table without the commit trigger: what Add costs
// over the business write it rides on.
func BenchmarkInsertBaseline(b *testing.B) {
	db, table := openDB(b)
	ctx := context.Background()
	plain := table + "_plain"
	if _, err := db.Exec("CREATE TABLE " + plain + " (id bigserial PRIMARY KEY, type text, origin_service text, origin_version text, origin_instance text, ts timestamptz, root_id text, parent_id text, metadata bytea, data bytea)"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = db.Exec("DROP TABLE " + plain) })
	data := []byte(`{"order":12345,"state":"paid"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+plain+" (type, origin_service, origin_version, origin_instance, ts, root_id, parent_id, metadata, data) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
			"order.paid", "", "", "", time.Now(), "", "", []byte(nil), data); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddInTx is Add alone: many Adds in one open transaction (the
// commit, with its trigger, is outside the timing).
func BenchmarkAddInTx(b *testing.B) {
	db, table := openDB(b)
	ctx := context.Background()
	ob := outbox.New(db, event.NewMemory(), outbox.WithTable(table))
	data := []byte(`{"order":12345,"state":"paid"}`)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := ob.Add(ctx, tx, event.Record{Type: "order.paid", Data: data}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelay is the relay's throughput to the memory bus, per record,
// from a committed backlog (batches of 100) until the table is empty.
func BenchmarkRelay(b *testing.B) {
	db, table := openDB(b)
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	ob := outbox.New(db, bus, outbox.WithTable(table), outbox.WithPoll(time.Millisecond))
	n := max(b.N, 100)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i += 100 {
		recs := make([]event.Record, min(100, n-i))
		for j := range recs {
			recs[j] = event.Record{Type: "order.paid", Data: []byte(`{"order":12345,"state":"paid"}`)}
		}
		if err := ob.Add(ctx, tx, recs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	stop := run(b, ob)
	drain(b, db, table)
	stop()
	b.StopTimer()
	if got := len(readAll(b, bus)); got != n {
		b.Fatalf("%d published, want %d", got, n)
	}
}

// TestConcurrentCommitOrder: writers commit transactions concurrently while
// two relays run. A writer commits its transactions one after another, so
// their order is known: the bus has each writer's transactions in that
// order, each transaction's records contiguous and in Add order.
func TestConcurrentCommitOrder(t *testing.T) {
	db, table := openDB(t)
	ctx := context.Background()
	bus := event.NewMemory()
	defer bus.Close()
	a := outbox.New(db, bus, outbox.WithTable(table), outbox.WithBatch(7), outbox.WithPoll(time.Millisecond))
	b := outbox.New(db, bus, outbox.WithTable(table), outbox.WithBatch(7), outbox.WithPoll(time.Millisecond))
	stop := run(t, a, b)
	const writers, txs, per = 6, 15, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range txs {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				for j := range per {
					if err := a.Add(ctx, tx, event.Record{Type: fmt.Sprintf("w%d.t%d.r%d", w, i, j)}); err != nil {
						t.Error(err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	drain(t, db, table)
	stop()
	got := readAll(t, bus)
	if len(got) != writers*txs*per {
		t.Fatalf("%d published, want %d", len(got), writers*txs*per)
	}
	next := make([]int, writers) // the next transaction of each writer
	for k := 0; k < len(got); k += per {
		var w, i int
		if _, err := fmt.Sscanf(got[k].Type, "w%d.t%d.r0", &w, &i); err != nil {
			t.Fatalf("record %d is %q, want the first of a transaction", k, got[k].Type)
		}
		if i != next[w] {
			t.Fatalf("writer %d: transaction %d published where %d was due", w, i, next[w])
		}
		next[w]++
		for j := 1; j < per; j++ {
			if want := fmt.Sprintf("w%d.t%d.r%d", w, i, j); got[k+j].Type != want {
				t.Fatalf("record %d is %q, want %q (a transaction's records contiguous)", k+j, got[k+j].Type, want)
			}
		}
	}
}
