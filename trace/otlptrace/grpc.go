package otlptrace

import (
	"context"
	"fmt"
	"net/url"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/microos/go-os/trace"
)

func init() {
	trace.Register("otlp+grpc", openGRPC)
}

// otlp+grpc://host:4317 is OTLP/gRPC without TLS (a collector beside the
// service); for TLS, build the exporter with NewGRPC and credentials.
func openGRPC(_ context.Context, u *url.URL) (trace.Exporter, error) {
	if err := trace.NoParams(u); err != nil {
		return nil, err
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: %s: want otlp+grpc://host:port", trace.ErrBadURL, u.Redacted())
	}
	return NewGRPC(u.Host, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// GRPCExporter sends batches of spans to an OTLP/gRPC receiver
// (TraceService/Export). It is safe for concurrent use.
type GRPCExporter struct {
	conn     *grpc.ClientConn
	ownsConn bool
	client   coltracepb.TraceServiceClient
	encoders encoders
}

// NewGRPC returns an exporter to the OTLP/gRPC receiver at target
// (host:4317), dialled with opts (credentials among them: grpc.NewClient
// requires them). Close closes the connection.
func NewGRPC(target string, opts ...grpc.DialOption) (*GRPCExporter, error) {
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlptrace: %s: %w", target, err)
	}
	return &GRPCExporter{conn: conn, ownsConn: true, client: coltracepb.NewTraceServiceClient(conn)}, nil
}

// NewGRPCConn returns an exporter that sends on a connection of the
// caller's; Close leaves it open.
func NewGRPCConn(conn *grpc.ClientConn) *GRPCExporter {
	return &GRPCExporter{conn: conn, client: coltracepb.NewTraceServiceClient(conn)}
}

// As sets *i to the exporter's connection when i is a **grpc.ClientConn.
func (e *GRPCExporter) As(i any) bool {
	if p, ok := i.(**grpc.ClientConn); ok {
		*p = e.conn
		return true
	}
	return false
}

// Export sends one batch. As the OTLP specification says, the codes that
// may succeed on retry (Canceled, DeadlineExceeded, ResourceExhausted,
// Aborted, OutOfRange, Unavailable, DataLoss) wrap trace.ErrUnavailable;
// the others wrap trace.ErrRejected. The status is reachable with
// status.FromError.
func (e *GRPCExporter) Export(ctx context.Context, spans []*trace.SpanData) error {
	// gRPC has marshalled the request when its Export returns.
	var ans *coltracepb.ExportTraceServiceResponse
	err := e.encoders.use(spans, func(req *coltracepb.ExportTraceServiceRequest) (err error) {
		ans, err = e.client.Export(ctx, req)
		return err
	})
	if err != nil {
		switch status.Code(err) {
		case codes.Canceled, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted,
			codes.OutOfRange, codes.Unavailable, codes.DataLoss:
			return trace.Unavailable(err)
		}
		return trace.Rejected(err)
	}
	if ps := ans.GetPartialSuccess(); ps.GetRejectedSpans() > 0 {
		return trace.Rejected(&PartialError{Rejected: ps.GetRejectedSpans(), Message: ps.GetErrorMessage()})
	}
	return nil
}

// Close closes the connection NewGRPC made.
func (e *GRPCExporter) Close() error {
	if e.ownsConn {
		return e.conn.Close()
	}
	return nil
}
