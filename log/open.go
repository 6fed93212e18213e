package log

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/microos/go-os/internal/urlopen"
)

var backends = urlopen.New[Output]("log")

func init() {
	Register("stderr", func(_ context.Context, u *url.URL) (Output, error) {
		return Stderr(), noParams(u)
	})
	Register("stdout", func(_ context.Context, u *url.URL) (Output, error) {
		return Stdout(), noParams(u)
	})
	Register("mem", func(_ context.Context, u *url.URL) (Output, error) {
		return NewMemory(), noParams(u)
	})
	Register("file", openFileURL)
}

// Register makes Open understand scheme: open returns the Output the URL
// names, after Open has taken out the parameters common to every scheme.
// It panics if the scheme is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Output, error)) {
	backends.Register(scheme, open)
}

// Open returns a Logger writing where the URL says, so that an application
// picks its log destination with one string:
//
//	stderr://                   stdout://           mem://
//	file:///var/log/app.log?max_size=100MB&rotate=daily&max_backups=7
//
// These query parameters work on every scheme:
//
//	level=debug|info|warn|error (or INFO+2...)  format=json|text
//	service=NAME  version=V  instance=ID        source=true
//	async=true  buffer=1MB  policy=block|drop  block_for=100ms
//	sample_first=N  sample_thereafter=M  sample_interval=1s
//
// file:// also takes max_size (bytes, or with a KB, MB, GB, KiB, MiB or GiB
// suffix), rotate (hourly, daily or a duration such as 6h) and
// max_backups. An unknown parameter is an error, so that a typo never
// goes unnoticed. opts apply after the URL's.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Logger, error) {
	u, err := urlopen.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("log: open: %w", err)
	}
	asyncChosen := false
	for _, k := range []string{"async", "buffer", "policy", "block_for"} {
		asyncChosen = asyncChosen || u.Query().Has(k)
	}
	common, err := commonOptions(u)
	if err != nil {
		return nil, fmt.Errorf("log: open %q: %w", u.Redacted(), err)
	}
	out, err := backends.OpenURL(ctx, u)
	if err != nil {
		return nil, err
	}
	if r, ok := out.(Remote); ok && r.Remote() && !asyncChosen {
		// A log call must never wait on the network: queue, and when the
		// queue is full (the backend hangs), drop and count.
		common = append(common, WithAsync(OnFull(Drop)))
	}
	l, err := New(append(append(common, withOwnedOutput(out)), opts...)...)
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("log: open %q: %w", u.Redacted(), err)
	}
	return l, nil
}

// commonOptions takes the scheme-independent parameters out of u's query.
func commonOptions(u *url.URL) ([]Option, error) {
	q := u.Query()
	var opts []Option
	take := func(key string) (string, bool) {
		v, ok := q[key]
		q.Del(key)
		if !ok {
			return "", false
		}
		return v[len(v)-1], true
	}
	if v, ok := take("level"); ok {
		var l slogLevel
		if err := l.parse(v); err != nil {
			return nil, err
		}
		opts = append(opts, WithLevel(l.Level))
	}
	if v, ok := take("format"); ok {
		f, err := ParseFormat(v)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithFormat(f))
	}
	name, _ := take("service")
	version, _ := take("version")
	instance, _ := take("instance")
	if name != "" || version != "" || instance != "" {
		opts = append(opts, WithService(name, version, instance))
	}
	if v, ok := take("source"); ok {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid("source %q: want true or false", v)
		}
		if on {
			opts = append(opts, WithSource())
		}
	}

	var async []AsyncOption
	useAsync := false
	if v, ok := take("async"); ok {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid("async %q: want true or false", v)
		}
		useAsync = on
	}
	if v, ok := take("buffer"); ok {
		n, err := ParseSize(v)
		if err != nil {
			return nil, fmt.Errorf("buffer: %w", err)
		}
		async, useAsync = append(async, BufferSize(int(min(n, 1<<40)))), true
	}
	if v, ok := take("policy"); ok {
		p, err := ParsePolicy(v)
		if err != nil {
			return nil, err
		}
		async, useAsync = append(async, OnFull(p)), true
	}
	if v, ok := take("block_for"); ok {
		d, err := parseDuration("block_for", v)
		if err != nil {
			return nil, err
		}
		async, useAsync = append(async, BlockAtMost(d)), true
	}
	if useAsync {
		opts = append(opts, WithAsync(async...))
	}

	var sample sampleOptions
	useSample := false
	for key, dst := range map[string]*int{"sample_first": &sample.first, "sample_thereafter": &sample.thereafter} {
		if v, ok := take(key); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, invalid("%s %q: want a count", key, v)
			}
			*dst, useSample = n, true
		}
	}
	if v, ok := take("sample_interval"); ok {
		d, err := parseDuration("sample_interval", v)
		if err != nil {
			return nil, err
		}
		sample.per, useSample = d, true
	}
	if useSample {
		opts = append(opts, WithSampling(sample.first, sample.thereafter, sample.per))
	}
	u.RawQuery = q.Encode()
	return opts, nil
}

type slogLevel struct{ Level slog.Level }

func (l *slogLevel) parse(v string) error {
	if err := l.Level.UnmarshalText([]byte(v)); err != nil {
		return invalid("level %q: want debug, info, warn or error, optionally +N or -N", v)
	}
	return nil
}

func parseDuration(key, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, invalid("%s %q: want a duration such as 100ms", key, v)
	}
	return d, nil
}

// ParseSize reads a byte count: digits, optionally followed by B, KB, MB,
// GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), in any case.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, invalid("size %q: want a number of bytes such as 100MB", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, invalid("size %q: %v", s, err)
	}
	var unit int64
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
		unit = 1
	case "k", "kb":
		unit = 1000
	case "m", "mb":
		unit = 1000 * 1000
	case "g", "gb":
		unit = 1000 * 1000 * 1000
	case "kib":
		unit = 1 << 10
	case "mib":
		unit = 1 << 20
	case "gib":
		unit = 1 << 30
	default:
		return 0, invalid("size %q: unknown unit %q", s, t[i:])
	}
	if n > (1<<63-1)/unit {
		return 0, invalid("size %q: too large", s)
	}
	return n * unit, nil
}

func noParams(u *url.URL) error {
	for key := range u.Query() {
		return invalid("unknown parameter %q for %s://", key, u.Scheme)
	}
	return nil
}

func openFileURL(_ context.Context, u *url.URL) (Output, error) {
	path := u.Path
	if u.Opaque != "" { // file:relative/path.log
		path = u.Opaque
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, invalid("file URL names host %q: want file:///absolute/path or file:relative/path", u.Host)
	}
	if path == "" {
		return nil, invalid("file URL has no path")
	}
	var opts []FileOption
	for key, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch key {
		case "max_size":
			n, err := ParseSize(v)
			if err != nil {
				return nil, fmt.Errorf("max_size: %w", err)
			}
			opts = append(opts, MaxSize(n))
		case "rotate":
			d, err := parseRotate(v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, RotateEvery(d))
		case "max_backups":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, invalid("max_backups %q: want a count", v)
			}
			opts = append(opts, MaxBackups(n))
		default:
			return nil, invalid("unknown parameter %q for file:// (want max_size, rotate, max_backups or a common one)", key)
		}
	}
	return OpenFile(path, opts...)
}

func parseRotate(v string) (time.Duration, error) {
	switch v {
	case "hourly":
		return time.Hour, nil
	case "daily":
		return 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, invalid("rotate %q: want hourly, daily or a positive duration such as 6h", v)
	}
	return d, nil
}
