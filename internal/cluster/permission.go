package cluster

import (
	"cmp"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// PermissionType is what a role may do on a key range. The values are
// etcd's own.
type PermissionType int

const (
	Read      PermissionType = PermissionType(clientv3.PermRead)
	Write     PermissionType = PermissionType(clientv3.PermWrite)
	ReadWrite PermissionType = PermissionType(clientv3.PermReadWrite)
)

func (t PermissionType) String() string {
	switch t {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "readwrite"
	}
	return "unknown"
}

// Permission grants Type on one key (RangeEnd empty, Prefix false), on the
// range [Key, RangeEnd), or on every key starting with Key (Prefix; etcd
// stores that as the range [Key, Key+1)). A RangeEnd of "\x00" means every
// key from Key on.
type Permission struct {
	Key      string
	RangeEnd string
	Prefix   bool
	Type     PermissionType
}

// PrefixPermission grants t on every key under prefix.
func PrefixPermission(prefix string, t PermissionType) Permission {
	return Permission{Key: prefix, Prefix: true, Type: t}
}

// keyRange is a permission's range as etcd stores it.
type keyRange struct{ key, end string }

func (p Permission) keyRange() keyRange {
	if p.Prefix {
		return keyRange{p.Key, clientv3.GetPrefixRangeEnd(p.Key)}
	}
	return keyRange{p.Key, p.RangeEnd}
}

// permissionFromRange turns a stored range back into a Permission, naming
// it a prefix grant when it is one so it reads the way it was written.
func permissionFromRange(key, end string, t PermissionType) Permission {
	if end != "" && end == clientv3.GetPrefixRangeEnd(key) {
		return Permission{Key: key, Prefix: true, Type: t}
	}
	return Permission{Key: key, RangeEnd: end, Type: t}
}

// mergePermissions indexes permissions by stored range, joining read and
// write on the same range into readwrite.
func mergePermissions(perms []Permission) map[keyRange]PermissionType {
	out := map[keyRange]PermissionType{}
	for _, p := range perms {
		r := p.keyRange()
		if t, ok := out[r]; ok && t != p.Type {
			out[r] = ReadWrite
			continue
		}
		out[r] = p.Type
	}
	return out
}

func compareRanges(a, b keyRange) int {
	return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.end, b.end))
}
