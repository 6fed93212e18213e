package zipkintrace

import (
	"net"

	"github.com/openzipkin/zipkin-go/model"

	"github.com/microos/go-os/trace"
)

// AppendSpans is appendSpans, for json_test.go.
var AppendSpans = appendSpans

// ToModel is the reference mapping of a span to zipkin-go's model (what
// the exporter sent before it had its own encoder): json_test.go checks
// that appendSpans writes what zipkin-go's serializer writes for it.
func ToModel(d *trace.SpanData) *model.SpanModel {
	m := &model.SpanModel{}

	m.TraceID = model.TraceID{High: u64(d.TraceID[:8]), Low: u64(d.TraceID[8:])}
	m.ID = model.ID(u64(d.SpanID[:]))
	if d.ParentID.IsValid() {
		p := model.ID(u64(d.ParentID[:]))
		m.ParentID = &p
	}
	m.Debug = d.Debug
	m.Name = d.Name
	if int(d.Kind) < len(kinds) {
		m.Kind = kinds[d.Kind]
	}
	// Zipkin refuses a timestamp before 1970-01-01T00:00:01, and
	// zipkin-go then fails the whole batch: a span started with a zero or
	// garbage time goes without a timestamp instead of taking the batch's
	// good spans down with it.
	if d.Start.Unix() >= 1 {
		m.Timestamp = d.Start
	}
	m.Duration = max(d.Duration(), 0)
	m.LocalEndpoint = &model.Endpoint{ServiceName: d.Service}
	if d.Remote.Service != "" || d.Remote.Addr.IsValid() {
		ep := &model.Endpoint{ServiceName: d.Remote.Service}
		if a := d.Remote.Addr; a.IsValid() {
			ip := net.IP(a.Addr().AsSlice())
			if a.Addr().Unmap().Is4() {
				ep.IPv4 = ip.To4()
			} else {
				ep.IPv6 = ip
			}
			ep.Port = a.Port()
		}
		m.RemoteEndpoint = ep
	}
	if len(d.Events) > 0 {
		m.Annotations = make([]model.Annotation, len(d.Events))
		for i, ev := range d.Events {
			m.Annotations[i] = model.Annotation{Timestamp: ev.Time, Value: ev.Name}
		}
	}
	if len(d.Tags) > 0 || d.Error != "" {
		m.Tags = make(map[string]string, len(d.Tags)+1)
		for _, t := range d.Tags {
			k, v := zipkinTag(t)
			m.Tags[k] = v
		}
		if d.Error != "" {
			m.Tags["error"] = d.Error
		}
	}
	return m
}

var kinds = [...]model.Kind{
	trace.Internal: model.Undetermined,
	trace.Server:   model.Server,
	trace.Client:   model.Client,
	trace.Producer: model.Producer,
	trace.Consumer: model.Consumer,
}

func u64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}
