package config

import (
	"context"
	"flag"
)

// Flags is a Source reading command-line flags: a flag named db.pool is the
// value at path db, pool. Only the flags set on the command line count, so
// that a flag's default does not override a file; FlagDefaults counts the
// others too. Flag values keep their type (a bool flag is a bool, a
// duration flag a duration string). Parse the FlagSet before New.
type Flags struct {
	fs       *flag.FlagSet
	sep      string
	defaults bool
}

// FlagsOption configures a Flags.
type FlagsOption func(*Flags)

// FlagSeparator sets the string that separates path elements in a flag
// name ("." by default).
func FlagSeparator(sep string) FlagsOption { return func(f *Flags) { f.sep = sep } }

// FlagDefaults makes flags not set on the command line count with their
// default value.
func FlagDefaults() FlagsOption { return func(f *Flags) { f.defaults = true } }

// NewFlags returns a Source for fs (flag.CommandLine for the program's
// flags).
func NewFlags(fs *flag.FlagSet, opts ...FlagsOption) *Flags {
	f := &Flags{fs: fs, sep: "."}
	for _, o := range opts {
		o(f)
	}
	if f.sep == "" {
		f.sep = "."
	}
	return f
}

// Name implements Source.
func (f *Flags) Name() string { return "flags:" + f.fs.Name() }

// Load implements Source.
func (f *Flags) Load(ctx context.Context) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tree := map[string]any{}
	visit := f.fs.Visit
	if f.defaults {
		visit = f.fs.VisitAll
	}
	visit(func(fl *flag.Flag) {
		path := splitPath(fl.Name, f.sep)
		if len(path) == 0 {
			return
		}
		var v any = fl.Value.String()
		if g, ok := fl.Value.(flag.Getter); ok {
			if n, err := normalize(g.Get()); err == nil { // else a custom type: keep its string
				v = n
			}
		}
		Insert(tree, path, v)
	})
	return tree, nil
}
