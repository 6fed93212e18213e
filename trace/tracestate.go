package trace

import (
	"fmt"
	"strings"
)

// SetTracestate returns list with the member key=value written the way
// W3C Trace Context §3.5 says a vendor mutates tracestate: key's member,
// new or updated, goes to the front (the left); every other member is kept
// as it was, byte for byte and in its order, since an entry this service
// did not write must never be altered. When the list would then hold more
// than 32 members, the right-most are dropped (§3.3.1.1). list must be
// clean (what Extract and CleanTracestate give). An invalid key or value
// (§3.3.1.3) is refused with ErrInvalidContext and list is returned as it
// was.
func SetTracestate(list, key, value string) (string, error) {
	if !validTracestateKey(key) {
		return list, fmt.Errorf("%w: tracestate key %q", ErrInvalidContext, key)
	}
	if !validTracestateValue(value) {
		return list, fmt.Errorf("%w: tracestate value %q for key %q", ErrInvalidContext, value, key)
	}
	var b strings.Builder
	b.Grow(len(key) + 1 + len(value) + 1 + len(list))
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(value)
	n := 1
	for rest := list; rest != "" && n < MaxTracestateMembers; {
		var m string
		m, rest, _ = strings.Cut(rest, ",")
		if k, _, _ := strings.Cut(m, "="); k == key || m == "" {
			continue
		}
		b.WriteByte(',')
		b.WriteString(m)
		n++
	}
	return b.String(), nil
}

// DeleteTracestate returns list without key's member (§3.5: a vendor
// deletes only its own entry); the other members are kept as they were.
func DeleteTracestate(list, key string) string {
	var b strings.Builder
	found := false
	for rest := list; rest != ""; {
		var m string
		m, rest, _ = strings.Cut(rest, ",")
		if k, _, _ := strings.Cut(m, "="); k == key {
			found = true
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	}
	if !found {
		return list
	}
	return b.String()
}

// TracestateValue returns the value of key's member in list.
func TracestateValue(list, key string) (string, bool) {
	for rest := list; rest != ""; {
		var m string
		m, rest, _ = strings.Cut(rest, ",")
		if k, v, _ := strings.Cut(m, "="); k == key {
			return v, true
		}
	}
	return "", false
}
