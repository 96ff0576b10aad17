package s3backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/etcd-charm/etcd/internal/etcd"
)

// IDLayout names a backup by the UTC second it was taken: charmed-etcd's backup-id format, in UTC (charmed-etcd
// writes local time with a literal Z).
const IDLayout = "2006-01-02T15:04:05Z"

var idPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// ValidID says whether id is a backup id; an id is part of an object key, so nothing else is accepted.
func ValidID(id string) bool {
	if !idPattern.MatchString(id) {
		return false
	}
	_, err := time.Parse(IDLayout, id)
	return err == nil
}

// Kinds of backup: retention prunes only the scheduled ones; a backup an operator asked for stays until they
// delete it.
const (
	KindScheduled = "scheduled"
	KindManual    = "manual"
)

// Manifest describes one backup. It is written after the snapshot object is complete, so a backup is listed
// only once all of it is in the bucket; a snapshot object without a manifest is an upload that never
// finished.
type Manifest struct {
	ID             string    `json:"id"`
	Object         string    `json:"object"`
	Size           int64     `json:"size"`
	SHA256         string    `json:"sha256"`
	Revision       int64     `json:"revision"`
	TotalKeys      int       `json:"total-keys"`
	Hash           uint32    `json:"hash"`
	StorageVersion string    `json:"storage-version,omitempty"`
	EtcdVersion    string    `json:"etcd-version"`
	ClusterID      string    `json:"cluster-id"`
	Model          string    `json:"model-uuid"`
	Application    string    `json:"application"`
	Unit           string    `json:"unit"`
	Kind           string    `json:"kind"`
	Taken          time.Time `json:"taken"`
}

const (
	archiveSuffix  = ".tar.gz"
	manifestSuffix = ".manifest.json"
	maxManifest    = 64 << 10
	// Each S3 request is retried a few times by the client; a hook's or action's context bounds the whole.
	maxRetries = 3
)

// Store is one Location opened for use.
type Store struct {
	loc Location
	cli *minio.Client
}

// Open makes a client for l. It does not contact the endpoint.
func Open(l Location) (*Store, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(l.CAChain) > 0 {
		pool := x509.NewCertPool()
		for _, pem := range l.CAChain {
			pool.AppendCertsFromPEM([]byte(pem))
		}
		tlsConfig.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	creds := credentials.NewStaticV4(l.AccessKey, l.SecretKey, "")
	if l.SignatureV2 {
		creds = credentials.NewStaticV2(l.AccessKey, l.SecretKey, "")
	}
	lookup := minio.BucketLookupAuto
	switch l.URIStyle {
	case "path":
		lookup = minio.BucketLookupPath
	case "host":
		lookup = minio.BucketLookupDNS
	}
	cli, err := minio.New(l.Endpoint.Host, &minio.Options{
		Creds: creds, Secure: l.Endpoint.Scheme == "https", Transport: transport, Region: l.Region,
		BucketLookup: lookup, MaxRetries: maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", l, err)
	}
	return &Store{loc: l, cli: cli}, nil
}

// Location is where this store writes.
func (s *Store) Location() Location { return s.loc }

func (s *Store) prefix() string {
	if s.loc.Path == "" {
		return ""
	}
	return s.loc.Path + "/"
}

// ArchiveKey and ManifestKey are the object keys of backup id.
func (s *Store) ArchiveKey(id string) string  { return s.prefix() + id + archiveSuffix }
func (s *Store) ManifestKey(id string) string { return s.prefix() + id + manifestSuffix }

// Check makes sure the bucket exists (creating it if the credentials may) and that these credentials may
// write, read and delete in the backup prefix, with a small probe object.
func (s *Store) Check(ctx context.Context) error {
	exists, err := s.cli.BucketExists(ctx, s.loc.Bucket)
	if err != nil {
		return s.explain("looking up the bucket", err)
	}
	if !exists {
		if err := s.cli.MakeBucket(ctx, s.loc.Bucket, minio.MakeBucketOptions{Region: s.loc.Region}); err != nil {
			if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return s.explain(fmt.Sprintf("creating the missing bucket %s", s.loc.Bucket), err)
			}
		}
	}
	probe := s.prefix() + ".etcd-charm-write-check"
	if _, err := s.cli.PutObject(ctx, s.loc.Bucket, probe, bytes.NewReader([]byte("ok")), 2,
		minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
		return s.explain("writing a probe object", err)
	}
	for obj := range s.cli.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: probe}) {
		if obj.Err != nil {
			return s.explain("listing the backup prefix", obj.Err)
		}
	}
	if err := s.cli.RemoveObject(ctx, s.loc.Bucket, probe, minio.RemoveObjectOptions{}); err != nil {
		return s.explain("deleting the probe object", err)
	}
	return nil
}

// Upload stores the snapshot archive at path as backup m.ID, then its manifest. The archive's size and
// sha256 are measured here, not trusted from m.
func (s *Store) Upload(ctx context.Context, path string, m Manifest) (Manifest, error) {
	if !ValidID(m.ID) {
		return Manifest{}, fmt.Errorf("backup id %q is not of the form %s", m.ID, IDLayout)
	}
	if _, err := s.cli.StatObject(ctx, s.loc.Bucket, s.ManifestKey(m.ID), minio.StatObjectOptions{}); err == nil {
		return Manifest{}, fmt.Errorf("a backup with id %s is already in %s; take the next one a second later", m.ID, s.loc)
	} else if code := minio.ToErrorResponse(err).Code; code != "NoSuchKey" && code != "NotFound" {
		return Manifest{}, s.explain("looking for an existing backup "+m.ID, err)
	}
	sum, size, err := etcd.FileSHA256(path)
	if err != nil {
		return Manifest{}, err
	}
	m.Object, m.Size, m.SHA256 = s.ArchiveKey(m.ID), size, sum
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	info, err := s.cli.PutObject(ctx, s.loc.Bucket, m.Object, f, size, minio.PutObjectOptions{
		ContentType:  "application/gzip",
		StorageClass: s.loc.StorageClass,
		UserMetadata: map[string]string{
			"etcd-sha256": sum, "etcd-revision": strconv.FormatInt(m.Revision, 10),
			"etcd-cluster-id": m.ClusterID, "etcd-version": m.EtcdVersion,
			// Who took it, so that an archive whose manifest never came can be cleaned up by its owner.
			metaModel: m.Model, metaApplication: m.Application,
		},
		PartSize: 64 << 20,
	})
	if err != nil {
		return Manifest{}, s.explain("uploading "+m.Object, err)
	}
	if info.Size != size {
		return Manifest{}, fmt.Errorf("uploading %s: the bucket stored %d bytes of %d", m.Object, info.Size, size)
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	if _, err := s.cli.PutObject(ctx, s.loc.Bucket, s.ManifestKey(m.ID), bytes.NewReader(raw), int64(len(raw)),
		minio.PutObjectOptions{ContentType: "application/json", StorageClass: s.loc.StorageClass}); err != nil {
		return Manifest{}, s.explain("writing the manifest of "+m.ID, err)
	}
	return m, nil
}

// List returns the complete backups under the prefix, newest first. Manifests that do not read are left out
// and counted in skipped.
func (s *Store) List(ctx context.Context) (ms []Manifest, skipped int, err error) {
	for obj := range s.cli.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: s.prefix()}) {
		if obj.Err != nil {
			return nil, 0, s.explain("listing "+s.loc.String(), obj.Err)
		}
		id, ok := strings.CutSuffix(strings.TrimPrefix(obj.Key, s.prefix()), manifestSuffix)
		if !ok || !ValidID(id) {
			continue
		}
		m, err := s.manifest(ctx, id)
		if err != nil {
			skipped++
			continue
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID > ms[j].ID })
	return ms, skipped, nil
}

// User metadata naming an archive's owner.
const (
	metaModel       = "etcd-model-uuid"
	metaApplication = "etcd-application"
)

// Orphans lists the archives under the prefix that have no manifest (uploads a killed hook or action never
// finished), were taken by owner, and are older than minAge by their id: retention's to delete, never listed
// as backups. An archive younger than minAge may still be getting its manifest.
func (s *Store) Orphans(ctx context.Context, owner Owner, minAge time.Duration, now time.Time) ([]string, error) {
	archives, manifests := map[string]bool{}, map[string]bool{}
	for obj := range s.cli.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: s.prefix()}) {
		if obj.Err != nil {
			return nil, s.explain("listing "+s.loc.String(), obj.Err)
		}
		name := strings.TrimPrefix(obj.Key, s.prefix())
		if id, ok := strings.CutSuffix(name, manifestSuffix); ok && ValidID(id) {
			manifests[id] = true
		} else if id, ok := strings.CutSuffix(name, archiveSuffix); ok && ValidID(id) {
			archives[id] = true
		}
	}
	var out []string
	for id := range archives {
		taken, _ := time.Parse(IDLayout, id)
		if manifests[id] || now.Sub(taken) < minAge {
			continue
		}
		info, err := s.cli.StatObject(ctx, s.loc.Bucket, s.ArchiveKey(id), minio.StatObjectOptions{})
		if err != nil {
			continue
		}
		if metaValue(info.UserMetadata, metaModel) == owner.Model && metaValue(info.UserMetadata, metaApplication) == owner.Application {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

// DeleteOrphan removes the archive of an id that has no manifest.
func (s *Store) DeleteOrphan(ctx context.Context, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("backup-id %q is not of the form %s", id, IDLayout)
	}
	if err := s.cli.RemoveObject(ctx, s.loc.Bucket, s.ArchiveKey(id), minio.RemoveObjectOptions{}); err != nil {
		return s.explain("deleting the unfinished upload "+id, err)
	}
	return nil
}

// metaValue reads user metadata whatever case the server gave its keys.
func metaValue(md map[string]string, key string) string {
	for k, v := range md {
		if strings.EqualFold(k, key) || strings.EqualFold(k, "X-Amz-Meta-"+key) {
			return v
		}
	}
	return ""
}

// Manifest reads backup id's manifest.
func (s *Store) Manifest(ctx context.Context, id string) (Manifest, error) {
	if !ValidID(id) {
		return Manifest{}, fmt.Errorf("backup-id %q is not of the form %s (list-backups shows them)", id, IDLayout)
	}
	return s.manifest(ctx, id)
}

func (s *Store) manifest(ctx context.Context, id string) (Manifest, error) {
	obj, err := s.cli.GetObject(ctx, s.loc.Bucket, s.ManifestKey(id), minio.GetObjectOptions{})
	if err != nil {
		return Manifest{}, s.explain("reading the manifest of "+id, err)
	}
	defer obj.Close()
	raw, err := io.ReadAll(io.LimitReader(obj, maxManifest+1))
	if err != nil {
		if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" {
			return Manifest{}, fmt.Errorf("there is no backup %s in %s (list-backups shows them)", id, s.loc)
		}
		return Manifest{}, s.explain("reading the manifest of "+id, err)
	}
	var m Manifest
	if len(raw) > maxManifest || json.Unmarshal(raw, &m) != nil || m.ID != id || len(m.SHA256) != 64 || m.Size <= 0 {
		return Manifest{}, fmt.Errorf("the manifest of backup %s in %s is damaged", id, s.loc)
	}
	return m, nil
}

// Download fetches backup id into dir and checks its size and sha256 against the manifest; the file is
// removed again when they differ.
func (s *Store) Download(ctx context.Context, id, dir string) (string, Manifest, error) {
	m, err := s.Manifest(ctx, id)
	if err != nil {
		return "", Manifest{}, err
	}
	obj, err := s.cli.GetObject(ctx, s.loc.Bucket, s.ArchiveKey(id), minio.GetObjectOptions{})
	if err != nil {
		return "", Manifest{}, s.explain("downloading backup "+id, err)
	}
	defer obj.Close()
	path := filepath.Join(dir, "etcd-backup-"+strings.NewReplacer(":", "").Replace(id)+archiveSuffix)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", Manifest{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(obj, m.Size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", Manifest{}, s.explain("downloading backup "+id, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != m.Size || sum != m.SHA256 {
		os.Remove(path)
		return "", Manifest{}, fmt.Errorf("backup %s in %s is corrupt: %d bytes with sha256 %s, the manifest says %d bytes with %s; "+
			"restore another backup (nothing was changed)", id, s.loc, n, sum, m.Size, m.SHA256)
	}
	return path, m, nil
}

// Delete removes a backup: the manifest first, so that it is no longer listed even if the archive stays.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("backup-id %q is not of the form %s", id, IDLayout)
	}
	if err := s.cli.RemoveObject(ctx, s.loc.Bucket, s.ManifestKey(id), minio.RemoveObjectOptions{}); err != nil {
		return s.explain("deleting the manifest of "+id, err)
	}
	if err := s.cli.RemoveObject(ctx, s.loc.Bucket, s.ArchiveKey(id), minio.RemoveObjectOptions{}); err != nil {
		return s.explain("deleting the archive of "+id, err)
	}
	return nil
}

// explain turns a client error into what the operator can act on.
func (s *Store) explain(doing string, err error) error {
	var hint string
	resp := minio.ToErrorResponse(err)
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case resp.Code == "AccessDenied" || resp.Code == "InvalidAccessKeyId" || resp.Code == "SignatureDoesNotMatch":
		hint = fmt.Sprintf("the S3 endpoint refused the credentials (%s): give the s3-integrator an access key that may read and write %s", resp.Code, s.loc.Bucket)
	case resp.Code == "NoSuchBucket":
		hint = fmt.Sprintf("bucket %s does not exist", s.loc.Bucket)
	case errors.As(err, &certErr) || errors.As(err, &unknownAuth) || strings.Contains(err.Error(), "x509:"):
		hint = "the endpoint's TLS certificate is not trusted: set the s3-integrator's tls-ca-chain to the CA that signed it"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || errors.As(err, &opErr):
		hint = fmt.Sprintf("cannot reach the S3 endpoint %s: check the s3-integrator's endpoint and the network", s.loc.Endpoint)
	}
	if hint == "" {
		return fmt.Errorf("%s in %s: %w", doing, s.loc, err)
	}
	return fmt.Errorf("%s in %s: %s (%v)", doing, s.loc, hint, shorten(err.Error(), 200))
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
