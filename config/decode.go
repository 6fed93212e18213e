package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"time"
)

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode puts a normalised value into dst with the getters' conversions,
// so that a struct scans the same whether its values came from YAML or
// from environment variables (all strings).
func decode(v any, dst any, path string) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: Scan needs a non-nil pointer, got %T", ErrType, dst)
	}
	return decodeValue(v, rv.Elem(), path)
}

func decodeValue(v any, rv reflect.Value, path string) error {
	if v == nil {
		rv.SetZero()
		return nil
	}
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return decodeValue(v, rv.Elem(), path)
	}
	if s, ok := v.(string); ok && rv.CanAddr() && rv.Addr().Type().Implements(textUnmarshalerType) {
		if err := rv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrType, pathName(path), err)
		}
		return nil
	}
	if rv.Type() == durationType {
		d, ok := toDuration(v)
		if !ok {
			return mismatch(v, rv, path)
		}
		rv.SetInt(int64(d))
		return nil
	}
	val := Value{v: v, ok: true}
	switch rv.Kind() {
	case reflect.Interface:
		if rv.NumMethod() != 0 {
			return mismatch(v, rv, path)
		}
		rv.Set(reflect.ValueOf(deepCopy(v)))
	case reflect.String:
		const none = "\x00none"
		s := val.String(none)
		if s == none {
			return mismatch(v, rv, path)
		}
		rv.SetString(s)
	case reflect.Bool:
		b := val.Bool(false)
		if b != val.Bool(true) { // the default showed through: no bool there
			return mismatch(v, rv, path)
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := val.Int64(0)
		if n != val.Int64(1) || rv.OverflowInt(n) {
			return mismatch(v, rv, path)
		}
		rv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := val.Int64(-1)
		if n < 0 || n != val.Int64(1) || rv.OverflowUint(uint64(n)) {
			return mismatch(v, rv, path)
		}
		rv.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		f := val.Float64(0)
		if f != val.Float64(1) || rv.OverflowFloat(f) {
			return mismatch(v, rv, path)
		}
		rv.SetFloat(f)
	case reflect.Slice:
		items, ok := listOf(v)
		if !ok {
			return mismatch(v, rv, path)
		}
		s := reflect.MakeSlice(rv.Type(), len(items), len(items))
		for i, e := range items {
			if err := decodeValue(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		rv.Set(s)
	case reflect.Array:
		items, ok := listOf(v)
		if !ok || len(items) > rv.Len() {
			return mismatch(v, rv, path)
		}
		for i := range rv.Len() {
			var e any
			if i < len(items) {
				e = items[i]
			}
			if err := decodeValue(e, rv.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || rv.Type().Key().Kind() != reflect.String {
			return mismatch(v, rv, path)
		}
		out := reflect.MakeMapWithSize(rv.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(rv.Type().Elem()).Elem()
			if err := decodeValue(e, ev, join(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), ev)
		}
		rv.Set(out)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch(v, rv, path)
		}
		return decodeStruct(m, rv, path)
	default:
		return mismatch(v, rv, path)
	}
	return nil
}

func decodeStruct(m map[string]any, rv reflect.Value, path string) error {
	fields := structFields(rv.Type(), nil)
	for k, e := range m {
		idx, ok := fieldFor(fields, k)
		if !ok {
			continue // like encoding/json, keys without a field are ignored
		}
		f, err := rv.FieldByIndexErr(idx)
		if err != nil { // a nil embedded pointer: allocate it
			if f, ok = fieldAlloc(rv, idx); !ok {
				return fmt.Errorf("%w: %s: cannot set a field through a nil embedded pointer to an unexported struct", ErrType, join(path, k))
			}
		}
		if err := decodeValue(e, f, join(path, k)); err != nil {
			return err
		}
	}
	return nil
}

type field struct {
	name  string
	index []int
}

// structFields lists t's settable fields by json name, flattening embedded
// structs without a tag as encoding/json does.
func structFields(t reflect.Type, prefix []int) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		if sf.Anonymous && tag == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, structFields(ft, index)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		name := sf.Name
		if tag != "" {
			name = tag
		}
		out = append(out, field{name: name, index: index})
	}
	return out
}

func fieldFor(fields []field, key string) ([]int, bool) {
	for _, f := range fields {
		if f.name == key {
			return f.index, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f.index, true
		}
	}
	return nil, false
}

// fieldAlloc walks to the field, allocating nil embedded pointers; it
// reports false where one cannot be set (an unexported embedded struct
// pointer, which encoding/json refuses too).
func fieldAlloc(rv reflect.Value, index []int) (reflect.Value, bool) {
	for _, i := range index {
		if rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				if !rv.CanSet() {
					return reflect.Value{}, false
				}
				rv.Set(reflect.New(rv.Type().Elem()))
			}
			rv = rv.Elem()
		}
		rv = rv.Field(i)
	}
	return rv, true
}

// listOf accepts a list, or a comma-separated string as lists arrive from
// the environment and flags.
func listOf(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case string:
		parts := Value{v: x, ok: true}.StringSlice(nil)
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, true
	}
	return nil, false
}

func mismatch(v any, rv reflect.Value, path string) error {
	return fmt.Errorf("%w: %s: cannot put %s into %s", ErrType, pathName(path), describe(v), rv.Type())
}

func describe(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathName(path string) string {
	if path == "" {
		return "value"
	}
	return path
}
