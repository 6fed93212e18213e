package config_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/config"
)

func newConfig(t *testing.T, srcs []config.Source, opts ...config.Option) *config.Config {
	t.Helper()
	c, err := config.New(context.Background(), srcs, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition with a deadline
	}
}

func receive(t *testing.T, ch <-chan config.Value) config.Value {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing delivered within 10s")
	}
	return config.Value{}
}

func TestMergeOrder(t *testing.T) {
	base := config.NewMemory(map[string]any{
		"db":    map[string]any{"host": "db1", "pool": 10, "opts": map[string]any{"ssl": true}},
		"hosts": []any{"a", "b", "c"},
		"name":  "base",
	})
	over := config.NewMemory(map[string]any{
		"db":    map[string]any{"pool": 20, "opts": map[string]any{"timeout": "1s"}},
		"hosts": []any{"z"},
		"name":  nil,
	})
	c := newConfig(t, []config.Source{base, over})
	want := map[string]any{
		"db":    map[string]any{"host": "db1", "pool": int64(20), "opts": map[string]any{"ssl": true, "timeout": "1s"}},
		"hosts": []any{"z"}, // lists replace
		"name":  nil,        // null replaces too
	}
	if got := c.Get().Interface(); !reflect.DeepEqual(got, want) {
		t.Fatalf("merged =\n%v\nwant\n%v", got, want)
	}
	if !c.Get("name").Exists() || c.Get("nope").Exists() || c.Get("db", "host", "deeper").Exists() {
		t.Errorf("Exists is wrong")
	}
}

func TestGetters(t *testing.T) {
	c := newConfig(t, []config.Source{config.NewMemory(map[string]any{
		"i": 7, "f": 2.5, "s": "42", "b": "yes", "t": true, "d": "250ms", "secs": 3, "list": []any{"x", 1, true},
		"csv": "a, b,c", "m": map[string]any{"k": "v"}, "hex": "0x10", "fint": 3.0,
	})})
	checks := []struct {
		name      string
		got, want any
	}{
		{"Int(i)", c.Get("i").Int(0), 7},
		{"Int(s)", c.Get("s").Int(0), 42},
		{"Int(hex)", c.Get("hex").Int(0), 16},
		{"Int(f) not integral", c.Get("f").Int(-1), -1},
		{"Int(fint)", c.Get("fint").Int(0), 3},
		{"Int(missing)", c.Get("missing").Int(5), 5},
		{"Float64(f)", c.Get("f").Float64(0), 2.5},
		{"Float64(i)", c.Get("i").Float64(0), 7.0},
		{"String(i)", c.Get("i").String(""), "7"},
		{"String(m)", c.Get("m").String("def"), "def"},
		{"Bool(t)", c.Get("t").Bool(false), true},
		{"Bool(b) not a bool", c.Get("b").Bool(false), false},
		{"Duration(d)", c.Get("d").Duration(0), 250 * time.Millisecond},
		{"Duration(secs)", c.Get("secs").Duration(0), 3 * time.Second},
		{"Duration(s)", c.Get("s").Duration(0), 42 * time.Second},
		{"StringSlice(list)", c.Get("list").StringSlice(nil), []string{"x", "1", "true"}},
		{"StringSlice(csv)", c.Get("csv").StringSlice(nil), []string{"a", "b", "c"}},
		{"StringSlice(m)", c.Get("m").StringSlice([]string{"d"}), []string{"d"}},
		{"Map(m)", c.Get("m").Map(nil), map[string]any{"k": "v"}},
		{"Map(i)", c.Get("i").Map(nil), map[string]any(nil)},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	// What a getter returns is the caller's: changing it changes nothing.
	c.Get("m").Map(nil)["k"] = "changed"
	if got := c.Get("m", "k").String(""); got != "v" {
		t.Errorf("after modifying a Map result, m.k = %q", got)
	}
}

type dbConfig struct {
	Host    string        `json:"host"`
	Pool    int           `json:"pool"`
	Timeout time.Duration `json:"timeout"`
	Replica *struct {
		Host string
	} `json:"replica"`
	Tags   []string          `json:"tags"`
	Labels map[string]string `json:"labels"`
	Ignore string            `json:"-"`
	Embedded
}

type Embedded struct {
	Region string `json:"region"`
}

func TestScan(t *testing.T) {
	// Values as the environment delivers them: all strings.
	env := config.NewEnv("APP_", config.EnvSeparator("__"), config.EnvFrom([]string{
		"APP_DB__HOST=db1", "APP_DB__POOL=12", "APP_DB__TIMEOUT=2s", "APP_DB__REPLICA__HOST=db2",
		"APP_DB__TAGS=a,b", "APP_DB__LABELS__TEAM=pay", "APP_DB__REGION=eu", "APP_DB__IGNORE=x", "OTHER=1",
	}))
	c := newConfig(t, []config.Source{env})
	var db dbConfig
	if err := c.Scan(&db, "db"); err != nil {
		t.Fatal(err)
	}
	want := dbConfig{Host: "db1", Pool: 12, Timeout: 2 * time.Second, Replica: &struct{ Host string }{"db2"},
		Tags: []string{"a", "b"}, Labels: map[string]string{"team": "pay"}, Embedded: Embedded{Region: "eu"}}
	if !reflect.DeepEqual(db, want) {
		t.Fatalf("Scan =\n%+v\nwant\n%+v", db, want)
	}

	bad := newConfig(t, []config.Source{config.NewMemory(map[string]any{"db": map[string]any{"pool": "many", "host": map[string]any{}}})})
	err := bad.Scan(&db, "db")
	if !errors.Is(err, config.ErrType) || !strings.Contains(err.Error(), "db") {
		t.Errorf("Scan of a bad value: %v, want ErrType naming the field", err)
	}
	if err := bad.Scan(&db, "missing"); !errors.Is(err, config.ErrNotFound) {
		t.Errorf("Scan of a missing path: %v, want ErrNotFound", err)
	}
	if err := bad.Scan(db, "db"); !errors.Is(err, config.ErrType) {
		t.Errorf("Scan into a non-pointer: %v, want ErrType", err)
	}
	var pool uint8
	if err := newConfig(t, []config.Source{config.NewMemory(map[string]any{"n": 300})}).Scan(&pool, "n"); !errors.Is(err, config.ErrType) {
		t.Errorf("Scan of 300 into uint8: %v, want ErrType", err)
	}
}

func TestEnvSource(t *testing.T) {
	env := config.NewEnv("APP_", config.EnvFrom([]string{
		"APP_DB_POOL=10", "APP_DB=scalar", "APP_NAME=x=y", "APP_=empty", "APP__A__=1", "NOT_APP_X=1", "junk",
	}))
	tree, err := env.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"db": map[string]any{"pool": "10"}, "name": "x=y", "a": "1"}
	if !reflect.DeepEqual(tree, want) {
		t.Fatalf("env tree = %v, want %v (the map db wins over the value)", tree, want)
	}
	if env.Name() != "env:APP_" {
		t.Errorf("Name = %q", env.Name())
	}
}

func TestFlagsSource(t *testing.T) {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.Int("db.pool", 5, "")
	fs.Duration("db.timeout", time.Second, "")
	fs.Bool("debug", false, "")
	fs.String("name", "def", "")
	if err := fs.Parse([]string{"-db.pool=20", "-debug", "-db.timeout=3s"}); err != nil {
		t.Fatal(err)
	}
	file := config.NewMemory(map[string]any{"name": "from-file", "db": map[string]any{"pool": 1}})
	c := newConfig(t, []config.Source{file, config.NewFlags(fs)})
	if got := c.Get("db", "pool").Int(0); got != 20 {
		t.Errorf("db.pool = %d, want the flag's 20", got)
	}
	if got := c.Get("name").String(""); got != "from-file" {
		t.Errorf("name = %q, want from-file: an unset flag's default must not override", got)
	}
	if !c.Get("debug").Bool(false) || c.Get("db", "timeout").Duration(0) != 3*time.Second {
		t.Errorf("debug, db.timeout = %v, %v", c.Get("debug").Interface(), c.Get("db", "timeout").Interface())
	}
	all := newConfig(t, []config.Source{file, config.NewFlags(fs, config.FlagDefaults())})
	if got := all.Get("name").String(""); got != "def" {
		t.Errorf("with FlagDefaults, name = %q, want def", got)
	}
}

func TestValidatorRejectsReload(t *testing.T) {
	m := config.NewMemory(map[string]any{"pool": 10})
	var reported atomic.Value
	c := newConfig(t, []config.Source{m},
		config.WithValidator(func(s *config.Snapshot) error {
			if n := s.Get("pool").Int(0); n < 1 || n > 100 {
				return fmt.Errorf("pool %d out of 1..100", n)
			}
			return nil
		}),
		config.WithErrorHandler(func(err error) { reported.Store(err) }))
	ch := c.Watch(context.Background(), "pool")

	if err := m.Set(map[string]any{"pool": 1000}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rejection to be reported", func() bool { return reported.Load() != nil })
	err := reported.Load().(error)
	var se *config.SourceError
	if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &se) || se.Source != "memory" || se.Op != "validate" {
		t.Fatalf("reported %v, want a validate *SourceError for memory wrapping ErrInvalid", err)
	}
	if got := c.Get("pool").Int(0); got != 10 {
		t.Fatalf("pool = %d after a rejected reload, want the last good 10", got)
	}
	if v := c.Snapshot().Version(); v != 1 {
		t.Errorf("version = %d after a rejected reload, want 1", v)
	}
	st := c.Status().Sources[0]
	if st.Healthy() || !errors.Is(st.LastError, config.ErrInvalid) {
		t.Errorf("status = %+v, want unhealthy with ErrInvalid", st)
	}

	if err := m.Set(map[string]any{"pool": 50}); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, ch).Int(0); got != 50 {
		t.Fatalf("watcher got %d, want 50 (and never the rejected 1000)", got)
	}
	if !c.Status().Sources[0].Healthy() {
		t.Errorf("status after a good reload is not healthy")
	}
}

func TestLogger(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	m := config.NewMemory(map[string]any{"pool": 1})
	newConfig(t, []config.Source{m}, config.WithLogger(logger),
		config.WithValidator(func(s *config.Snapshot) error {
			if s.Get("pool").Int(0) > 10 {
				return errors.New("pool too big")
			}
			return nil
		}))
	m.SetValue(11, "pool")
	waitFor(t, "the warning", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "pool too big")
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestValidatorFailsNew(t *testing.T) {
	_, err := config.New(context.Background(), []config.Source{config.NewMemory(map[string]any{"pool": 0})},
		config.WithValidator(func(s *config.Snapshot) error {
			if !s.Get("pool").Exists() || s.Get("pool").Int(0) == 0 {
				return errors.New("pool must be set")
			}
			return nil
		}))
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "pool must be set") {
		t.Fatalf("New = %v, want ErrInvalid with the validator's message", err)
	}
}

func TestStartLenientOrStrict(t *testing.T) {
	missing := config.NewFile(filepath.Join(t.TempDir(), "nope.json"))
	defaults := config.NewMemory(map[string]any{"a": 1})
	var reported atomic.Pointer[error]
	c := newConfig(t, []config.Source{defaults, missing}, config.WithErrorHandler(func(err error) { reported.CompareAndSwap(nil, &err) }))
	if c.Get("a").Int(0) != 1 || reported.Load() == nil || !errors.Is(*reported.Load(), config.ErrNotFound) {
		t.Errorf("lenient start: a=%v reported=%v, want a=1 and ErrNotFound", c.Get("a").Interface(), reported.Load())
	}
	_, err := config.New(context.Background(), []config.Source{defaults, missing}, config.WithStrictStart())
	if !errors.Is(err, config.ErrNotFound) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("strict start: %v, want ErrNotFound naming the file", err)
	}
	optional := config.NewFile(filepath.Join(t.TempDir(), "nope.json"), config.Optional())
	oc, err := config.New(context.Background(), []config.Source{optional}, config.WithStrictStart())
	if err != nil {
		t.Fatalf("an optional missing file: %v", err)
	}
	oc.Close()
}

func TestWatchSemantics(t *testing.T) {
	m := config.NewMemory(map[string]any{"a": 1, "b": map[string]any{"c": 1}})
	c := newConfig(t, []config.Source{m})
	ctx, cancel := context.WithCancel(context.Background())
	ch := c.Watch(ctx, "b", "c")
	var calls atomic.Int64
	stop := c.OnChange(func(v config.Value) { calls.Add(v.Int64(0)) }, "b")

	// Several changes before the reader looks: it sees the latest.
	for i := 2; i <= 4; i++ {
		if err := m.SetValue(i, "b", "c"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the change", func() bool { return c.Get("b", "c").Int(0) == i })
	}
	if got := receive(t, ch).Int(0); got != 4 {
		t.Fatalf("a slow reader got %d, want the latest 4", got)
	}
	// A change elsewhere wakes neither.
	if err := m.SetValue(2, "a"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a=2", func() bool { return c.Get("a").Int(0) == 2 })
	select {
	case v := <-ch:
		t.Fatalf("got %v after only a changed", v.Interface())
	default:
	}
	stop()
	if err := m.SetValue(5, "b", "c"); err != nil {
		t.Fatal(err)
	}
	receive(t, ch)
	cancel()
	waitFor(t, "the channel to close after ctx is cancelled", func() bool {
		select {
		case _, ok := <-ch:
			return !ok
		default:
			return false
		}
	})
	// OnChange on b saw maps, not ints; stop removed it before 5.
	if calls.Load() != 0 {
		t.Errorf("OnChange(b) summed %d", calls.Load())
	}
}

func TestOnChangeValues(t *testing.T) {
	m := config.NewMemory(map[string]any{"n": 1})
	c := newConfig(t, []config.Source{m})
	got := make(chan int64, 10)
	c.OnChange(func(v config.Value) { got <- v.Int64(0) }, "n")
	for _, want := range []int64{2, 3} {
		m.SetValue(want, "n")
		select {
		case n := <-got:
			if n != want {
				t.Fatalf("OnChange got %d, want %d", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("OnChange not called")
		}
	}
}

func TestCloseEndsEverything(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.json")
	os.WriteFile(path, []byte(`{"a":1}`), 0o644)
	c, err := config.New(context.Background(), []config.Source{config.NewFile(path), config.NewMemory(nil)},
		config.WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Watch(context.Background())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("watch channel open after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if c.Get("a").Int(0) != 1 {
		t.Error("reads after Close must return the last snapshot")
	}
	if err := c.Reload(context.Background()); !errors.Is(err, config.ErrClosed) {
		t.Errorf("Reload after Close: %v", err)
	}
	if _, ok := <-c.Watch(context.Background()); ok {
		t.Error("Watch after Close returned an open channel")
	}
	// goleak in TestMain checks that no goroutine is left.
}

func TestReloadAndPoll(t *testing.T) {
	environ := []string{"APP_N=1"}
	var n atomic.Int64
	n.Store(1)
	src := &funcSource{load: func() map[string]any { return map[string]any{"n": n.Load()} }}
	c := newConfig(t, []config.Source{src, config.NewEnv("APP_", config.EnvFrom(environ))})
	n.Store(2)
	if err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("n").String(""); got != "1" {
		t.Errorf("n = %q, want the env's 1 overriding", got)
	}
	polled := newConfig(t, []config.Source{src}, config.WithPollInterval(5*time.Millisecond))
	n.Store(3)
	waitFor(t, "the poll to pick up n=3", func() bool { return polled.Get("n").Int(0) == 3 })
}

type funcSource struct{ load func() map[string]any }

func (f *funcSource) Name() string                                 { return "func" }
func (f *funcSource) Load(context.Context) (map[string]any, error) { return f.load(), nil }

func TestPanickingSource(t *testing.T) {
	src := &funcSource{load: func() map[string]any { panic("boom") }}
	_, err := config.New(context.Background(), []config.Source{src}, config.WithStrictStart())
	if !errors.Is(err, config.ErrParse) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("New with a panicking source: %v", err)
	}
	bad := &funcSource{load: func() map[string]any { return map[string]any{"ch": make(chan int)} }}
	if _, err := config.New(context.Background(), []config.Source{bad}, config.WithStrictStart()); !errors.Is(err, config.ErrParse) {
		t.Fatalf("New with an unsupported type: %v", err)
	}
}

func TestRedacted(t *testing.T) {
	c := newConfig(t, []config.Source{config.NewMemory(map[string]any{
		"db":      map[string]any{"password": "hunter2", "dsn": "postgres://app:hunter2@db:5432/app", "user": "app"},
		"api_key": "k", "APIToken": "t", "client_secret": map[string]any{"x": "y"}, "hosts": []any{"redis://:hunter2@r:6379"},
		"stripe": "sk_live",
	})}, config.WithSecretKeys("stripe"))
	s := c.Snapshot().String()
	for _, leak := range []string{"hunter2", `"k"`, `"t"`, `"y"`, "sk_live"} {
		if strings.Contains(s, leak) {
			t.Errorf("dump leaks %s: %s", leak, s)
		}
	}
	if !strings.Contains(s, `"user":"app"`) || !strings.Contains(s, "postgres://app:xxxxx@db:5432/app") {
		t.Errorf("dump hides too much: %s", s)
	}
	if got := fmt.Sprint(c.Snapshot()); got != s {
		t.Errorf("printing a snapshot is not the redacted dump")
	}
	if c.Get("db", "password").String("") != "hunter2" {
		t.Error("reads must see the real value")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.conf")
	os.WriteFile(path, []byte(`{"from":"file"}`), 0o644)
	ctx := context.Background()
	srcs, err := config.OpenSources(ctx, "mem://", "file://"+path+"?format=json", "file:"+filepath.Join(dir, "none.json")+"?optional=true", "env://GOOS_TEST_?sep=__")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOS_TEST_A__B", "c")
	c := newConfig(t, srcs, config.WithStrictStart())
	if c.Get("from").String("") != "file" || c.Get("a", "b").String("") != "c" {
		t.Errorf("opened config = %v", c.Get().Interface())
	}
	for _, bad := range []string{"nope://x", "file://?format=json", "file:a.json?optional=maybe", "::"} {
		if _, err := config.OpenSource(ctx, bad); err == nil {
			t.Errorf("Open(%q): no error", bad)
		}
	}
	_, err = config.OpenSource(ctx, "consul://127.0.0.1:8500/x")
	if err == nil || !strings.Contains(err.Error(), "imported") {
		t.Errorf("Open of an unregistered scheme: %v, want a hint about the import", err)
	}
}

func TestHandler(t *testing.T) {
	c := newConfig(t, []config.Source{config.NewMemory(map[string]any{"db": map[string]any{"password": "hunter2", "pool": 3}})})
	srv := httptest.NewServer(config.Handler(c))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(body), "hunter2") || !strings.Contains(string(body), `"pool": 3`) ||
		!strings.Contains(string(body), `"name": "memory"`) {
		t.Fatalf("handler: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	srv.Client().CloseIdleConnections()
}

func TestAccessor(t *testing.T) {
	m := config.NewMemory(map[string]any{"db": map[string]any{"pool": 1}})
	c := newConfig(t, []config.Source{m})
	a := c.Accessor("db", "pool")
	if a.Get().Int(0) != 1 {
		t.Fatal("accessor")
	}
	m.SetValue(2, "db", "pool")
	waitFor(t, "the accessor to see the reload", func() bool { return a.Get().Int(0) == 2 })
}

func TestFileEditedInPlaceAndRecreated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.json")
	os.WriteFile(path, []byte(`{"n":1}`), 0o644)
	c := newConfig(t, []config.Source{config.NewFile(path, config.Debounce(5*time.Millisecond))}, config.WithStrictStart())
	waitFor(t, "the watch", func() bool { return c.Status().Sources[0].Watching })
	// In place, as `echo > file` does: truncate (an empty document is
	// rejected, not applied) then write.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"n":2}`)
	f.Close()
	waitFor(t, "the in-place edit", func() bool { return c.Get("n").Int(0) == 2 })
	// Deleted, then created again: the deletion is reported and the last
	// good kept; the new file is read.
	os.Remove(path)
	waitFor(t, "the deletion to be reported", func() bool {
		return errors.Is(c.Status().Sources[0].LastError, config.ErrNotFound)
	})
	if c.Get("n").Int(0) != 2 {
		t.Fatal("a deleted file must keep the last good values")
	}
	os.WriteFile(path, []byte(`{"n":3}`), 0o644)
	waitFor(t, "the re-created file", func() bool { return c.Get("n").Int(0) == 3 })
}

func TestDecodeJSON(t *testing.T) {
	for _, bad := range []string{"", "  ", "[1]", "null", `{"a":1} {"b":2}`, `{"a":`, "\xff"} {
		if _, err := config.Decode("json", []byte(bad)); !errors.Is(err, config.ErrParse) {
			t.Errorf("Decode(%q) = %v, want ErrParse", bad, err)
		}
	}
	if _, err := config.Decode("xml", []byte("<a/>")); !errors.Is(err, config.ErrParse) || !strings.Contains(err.Error(), "yamlconfig") {
		t.Errorf("unknown format: %v", err)
	}
	tree, err := config.Decode("json", []byte(`{"big": 12345678901234567890, "n": 3, "f": 1.5}`))
	if err != nil {
		t.Fatal(err)
	}
	c := newConfig(t, []config.Source{config.NewMemory(tree)})
	if c.Get("n").Int(0) != 3 || c.Get("f").Float64(0) != 1.5 || c.Get("big").Float64(0) < 1e19 {
		t.Errorf("numbers: %v", c.Get().Interface())
	}
}

func TestMiddleware(t *testing.T) {
	m := config.NewMemory(map[string]any{"greeting": "hello"})
	c := newConfig(t, []config.Source{m})
	h := config.Middleware(c)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := config.FromContext(r.Context())
		// A reload during the request does not change what it reads.
		m.SetValue("bye", "greeting")
		waitFor(t, "the reload", func() bool { return c.Get("greeting").String("") == "bye" })
		io.WriteString(w, snap.Get("greeting").String(""))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Body.String() != "hello" {
		t.Fatalf("handler read %q, want the request's snapshot: hello", rec.Body.String())
	}
	if config.FromContext(context.Background()) != nil {
		t.Error("FromContext of a bare context")
	}
}

// Open builds the Config from URLs, as every package's Open returns its
// portable type; a bad URL is refused and opens nothing.
func TestOpenConfigFromURLs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.json")
	if err := os.WriteFile(path, []byte(`{"http":{"port":9090}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Open(ctx, []string{"mem://", "file://" + path + "?format=json"})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	if got := cfg.Get("http", "port").Int(0); got != 9090 {
		t.Fatalf("http.port = %d, want 9090 from the file", got)
	}
	if _, err := config.Open(ctx, []string{"mem://", "nope://x"}); err == nil {
		t.Fatal("config.Open accepted an unknown scheme")
	}
}
