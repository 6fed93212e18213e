package redisevent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
)

// deadCorrupt deals with entry m of type typ's stream that is not a record
// (another client's XADD): a group member moves it to the dead-letter
// stream, its fields kept as the Data of a record of type typ with
// metadata "event-corrupt", and acknowledges it, so that nobody reads it
// again; a broadcast subscriber only skips it. Either reports it.
func (c *cursor) deadCorrupt(ctx context.Context, typ string, m redis.XMessage, why error) error {
	if c.o.Group == "" {
		return nil
	}
	raw, _ := json.Marshal(m.Values)
	rec := event.Record{ID: m.ID, Type: typ, Timestamp: time.UnixMilli(int64(msOf(m.ID))), RootID: m.ID, Data: raw,
		Metadata: map[string]string{"event-corrupt": "true"}}
	if err := c.d.DeadLetter(ctx, event.DeadLetter{Record: rec, Group: c.o.Group, Err: why.Error()}); err != nil {
		return err
	}
	return mapErr(c.d.c.XAck(ctx, c.d.key(typ), c.o.Group, m.ID).Err())
}
