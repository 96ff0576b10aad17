package cluster

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// AlarmType is etcd's alarm kind.
type AlarmType = etcdserverpb.AlarmType

// The alarms etcd raises.
const (
	AlarmNone    = etcdserverpb.AlarmType_NONE
	AlarmNoSpace = etcdserverpb.AlarmType_NOSPACE // quota-backend-bytes reached
	AlarmCorrupt = etcdserverpb.AlarmType_CORRUPT // a corruption check failed
)

// Alarm is an active alarm raised by one member.
type Alarm struct {
	MemberID uint64
	Type     AlarmType
}

func (a Alarm) String() string {
	return fmt.Sprintf("%s on member %s", a.Type, idString(a.MemberID))
}

// Alarms lists the active alarms of the whole cluster.
func (c *Client) Alarms(ctx context.Context) ([]Alarm, error) {
	resp, err := c.cli.AlarmList(ctx)
	if err != nil {
		return nil, wrap("list etcd alarms", err)
	}
	return alarmsFromPB(resp.Alarms), nil
}

// DisarmAlarm clears one alarm; the zero Alarm clears every active alarm.
// A NOSPACE alarm comes back on the next write unless the space was freed
// first (compact, then defragment every member). Clearing an alarm that is
// not active is not an error.
func (c *Client) DisarmAlarm(ctx context.Context, a Alarm) error {
	_, err := c.cli.AlarmDisarm(ctx, &clientv3.AlarmMember{MemberID: a.MemberID, Alarm: a.Type})
	return wrap("disarm etcd alarm "+a.String(), err)
}

func alarmsFromPB(as []*etcdserverpb.AlarmMember) []Alarm {
	out := make([]Alarm, 0, len(as))
	for _, a := range as {
		out = append(out, Alarm{MemberID: a.MemberID, Type: a.Alarm})
	}
	return out
}
