package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is a Source reading one document: JSON, or YAML and TOML once
// config/yamlconfig and config/tomlconfig are imported. It watches the file
// without polling where the OS tells of changes (inotify on Linux), by
// watching its directory: an editor that saves by writing a temporary file
// and renaming it over the original, and a Kubernetes ConfigMap update
// (a symlink swap), are seen like an in-place write. Bursts of events are
// debounced into one reload. Elsewhere it polls the file's size and
// modification time.
type File struct {
	path     string
	format   string
	optional bool
	debounce time.Duration
	poll     time.Duration
}

// FileOption configures a File.
type FileOption func(*File)

// FileFormat sets the format by name ("json", "yaml", "toml") instead of
// from the file's extension.
func FileFormat(name string) FileOption { return func(f *File) { f.format = name } }

// Optional makes a missing file load as empty instead of failing with
// ErrNotFound. Overlays are always optional.
func Optional() FileOption { return func(f *File) { f.optional = true } }

// Debounce sets how long the file must stay quiet after an event before it
// is reloaded (default 50ms), so that a save made of several writes
// reloads once.
func Debounce(d time.Duration) FileOption { return func(f *File) { f.debounce = d } }

// PollEvery sets how often the file is checked where the OS cannot tell of
// changes (default 1s; a non-positive d keeps the default, as a ticker
// cannot tick every 0s).
func PollEvery(d time.Duration) FileOption {
	return func(f *File) {
		if d > 0 {
			f.poll = d
		}
	}
}

// NewFile returns a Source for the file at path.
func NewFile(path string, opts ...FileOption) *File {
	f := &File{path: path, debounce: 50 * time.Millisecond, poll: time.Second}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name implements Source.
func (f *File) Name() string { return "file:" + f.path }

// Load implements Source.
func (f *File) Load(ctx context.Context) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	format := f.format
	if format == "" {
		var ok bool
		if format, ok = FormatOf(f.path); !ok {
			return nil, fmt.Errorf("%w: no format registered for the extension of %s (import config/yamlconfig or config/tomlconfig, or use FileFormat)", ErrParse, f.path)
		}
	}
	data, err := os.ReadFile(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if f.optional {
			return map[string]any{}, nil
		}
		return nil, Wrap(ErrNotFound, err)
	case err != nil:
		return nil, Unavailable(err)
	}
	return Decode(format, data)
}

// Overlay implements Overlayer: app.yaml's overlay for prod is
// app.prod.yaml, in the same directory and format, and optional.
func (f *File) Overlay(env string) Source {
	ext := filepath.Ext(f.path)
	o := *f
	o.path = strings.TrimSuffix(f.path, ext) + "." + env + ext
	o.optional = true
	if o.format == "" {
		o.format, _ = FormatOf(f.path)
	}
	return &o
}

// Watch implements Watcher.
func (f *File) Watch(ctx context.Context, changed func()) error {
	return watchFile(ctx, f.path, f.debounce, f.poll, changed)
}

// pollFile calls changed whenever the file's size, modification time or
// existence differs from the previous check.
func pollFile(ctx context.Context, path string, every time.Duration, changed func()) error {
	last := statKey(path) // before changed(), so that a change during its load is seen
	changed()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if k := statKey(path); k != last {
			last = k
			changed()
		}
	}
}

type fileKey struct {
	exists bool
	size   int64
	mod    time.Time
}

func statKey(path string) fileKey {
	fi, err := os.Stat(path)
	if err != nil {
		return fileKey{}
	}
	return fileKey{exists: true, size: fi.Size(), mod: fi.ModTime()}
}
