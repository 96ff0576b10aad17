package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DataCopy is one copy of the data rebuild-cluster could keep or drop: a member, or the newest backup.
type DataCopy struct {
	Name      string
	Revision  int64
	RaftIndex uint64
	Reachable bool
	Taken     time.Time // backups only
}

// RebuildCost is what rebuild-cluster's dry run answers: what a rebuild from source keeps and what it loses,
// before anything is changed.
type RebuildCost struct {
	Lines   []string          // one per copy, for a person
	Results map[string]string // the same figures, for scripts
}

// CostOfRebuild compares every copy with the source. Members that do not answer cannot say what they hold:
// writes only they had are what quorum loss costs, and no count of them is possible. A backup is
// reported by how many revisions, and how long, it lies behind the source: what a restore from it instead
// would lose.
func CostOfRebuild(source DataCopy, members []DataCopy, backup *DataCopy, now time.Time) RebuildCost {
	c := RebuildCost{Results: map[string]string{
		"source": source.Name, "source-revision": strconv.FormatInt(source.Revision, 10),
		"source-raft-index": strconv.FormatUint(source.RaftIndex, 10),
	}}
	c.Lines = append(c.Lines, fmt.Sprintf("%s keeps its data: revision %d, raft index %d", source.Name, source.Revision, source.RaftIndex))
	var lost, behind []string
	for _, m := range members {
		switch {
		case m.Name == source.Name:
		case !m.Reachable:
			lost = append(lost, m.Name)
			c.Lines = append(c.Lines, m.Name+" does not answer: writes that reached only it are lost")
		default:
			behind = append(behind, m.Name)
			c.Lines = append(c.Lines, fmt.Sprintf("%s answers at revision %d (%s the source); it is wiped and rejoins as a learner",
				m.Name, m.Revision, revisionsApart(source.Revision-m.Revision)))
			c.Results["members."+m.Name+".behind-revisions"] = strconv.FormatInt(source.Revision-m.Revision, 10)
		}
	}
	c.Results["lost-members"] = strings.Join(lost, ",")
	c.Results["rejoining-members"] = strings.Join(behind, ",")
	if backup != nil {
		lag := now.Sub(backup.Taken).Round(time.Second)
		c.Lines = append(c.Lines, fmt.Sprintf("the newest backup, %s, is at revision %d: %s the source, taken %s ago",
			backup.Name, backup.Revision, revisionsApart(source.Revision-backup.Revision), lag))
		c.Results["backup"] = backup.Name
		c.Results["backup-behind-revisions"] = strconv.FormatInt(source.Revision-backup.Revision, 10)
		c.Results["backup-age"] = lag.String()
	}
	return c
}

func revisionsApart(n int64) string {
	switch {
	case n == 0:
		return "level with"
	case n > 0:
		return fmt.Sprintf("%d revision%s behind", n, plural(int(min(n, 2)), "", "s"))
	}
	return fmt.Sprintf("%d revision%s ahead of", -n, plural(int(min(-n, 2)), "", "s"))
}
