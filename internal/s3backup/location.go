// Package s3backup keeps etcd backups in S3 object storage: where they go (a Location, read from what an
// s3-integrator sent over the `s3` interface and validated as untrusted input), and a Store that uploads,
// lists, downloads with verification, and prunes them. The charm decides when; this package only does.
package s3backup

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Keys of the s3 interface (data-platform-libs s3 v0; object-storage-integrators s3 v1). The provider answers
// in its application bag; v1 moves the two credentials into a Juju secret named by secret-extra.
const (
	KeyAccessKey        = "access-key"
	KeySecretKey        = "secret-key"
	KeyBucket           = "bucket"
	KeyEndpoint         = "endpoint"
	KeyRegion           = "region"
	KeyPath             = "path"
	KeyURIStyle         = "s3-uri-style"
	KeyStorageClass     = "storage-class"
	KeyAPIVersion       = "s3-api-version"
	KeyTLSCAChain       = "tls-ca-chain"
	KeyDeleteOlderThan  = "delete-older-than-days"
	KeySecretExtra      = "secret-extra"
	KeyRequestedSecrets = "requested-secrets"
	KeyLibVersion       = "lib-version"
)

// Bounds on what a provider may send: generous for any real S3 set-up, small enough that a broken or hostile
// provider cannot make a hook carry megabytes around.
const (
	maxFieldBytes   = 2048
	maxCAChainBytes = 64 << 10
)

// Location is where the backups of one cluster go, and with which credentials.
type Location struct {
	Endpoint     *url.URL // scheme and host only
	Bucket       string
	Path         string // inside the bucket, no leading or trailing slash; may be empty
	Region       string
	URIStyle     string // "path", "host" or "" (let the client decide)
	StorageClass string
	SignatureV2  bool
	AccessKey    string
	SecretKey    string
	CAChain      []string // PEM certificates to trust for the endpoint; empty means the system's
	// MaxAgeDays is the provider's delete-older-than-days (0 when not sent).
	MaxAgeDays int
}

// Fingerprint changes whenever anything that decides where or how backups are written changes; the charm
// re-checks the bucket when it does.
func (l Location) Fingerprint() string {
	h := sha256.New()
	for _, f := range []string{l.Endpoint.String(), l.Bucket, l.Path, l.Region, l.URIStyle, l.StorageClass,
		strconv.FormatBool(l.SignatureV2), l.AccessKey, l.SecretKey, strings.Join(l.CAChain, "\n")} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// String names the location for people: no credentials.
func (l Location) String() string {
	s := l.Endpoint.String() + "/" + l.Bucket
	if l.Path != "" {
		s += "/" + l.Path
	}
	return s
}

// ProviderError is what is wrong with the provider's data, said so that the operator knows which option of
// the s3-integrator to fix.
type ProviderError struct{ Reason string }

func (e ProviderError) Error() string { return e.Reason }

// Incomplete is returned while the provider has not sent everything a backup needs yet: not an error of the
// provider's, it may still be answering.
type Incomplete struct{ Missing []string }

func (e Incomplete) Error() string {
	return "waiting for " + strings.Join(e.Missing, ", ") + " from the provider"
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseLocation validates the provider's application bag (and, for v1 providers, the content of the secret
// it named) into a Location. app is untrusted: every field is bounded and checked.
func ParseLocation(app, secret map[string]string) (Location, error) {
	for k, v := range app {
		limit := maxFieldBytes
		if k == KeyTLSCAChain {
			limit = maxCAChainBytes
		}
		if len(v) > limit {
			return Location{}, ProviderError{fmt.Sprintf("%s is %d bytes, more than the %d accepted", k, len(v), limit)}
		}
	}
	get := func(k string) string {
		if v, ok := secret[k]; ok && v != "" {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(app[k])
	}
	var missing []string
	for _, k := range []string{KeyAccessKey, KeySecretKey, KeyBucket, KeyEndpoint} {
		if get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Location{}, Incomplete{Missing: missing}
	}
	for _, k := range []string{KeyAccessKey, KeySecretKey} {
		if v := get(k); len(v) > maxFieldBytes || strings.ContainsAny(v, "\n\r\x00") {
			return Location{}, ProviderError{fmt.Sprintf("%s is not a usable credential (control characters or over %d bytes); sync the credentials again", k, maxFieldBytes)}
		}
	}
	l := Location{
		AccessKey:    get(KeyAccessKey),
		SecretKey:    get(KeySecretKey),
		Bucket:       strings.Trim(get(KeyBucket), "/"),
		Path:         strings.Trim(get(KeyPath), "/"),
		Region:       get(KeyRegion),
		StorageClass: get(KeyStorageClass),
	}
	ep, err := parseEndpoint(get(KeyEndpoint))
	if err != nil {
		return Location{}, err
	}
	l.Endpoint = ep
	if !bucketName.MatchString(l.Bucket) || strings.Contains(l.Bucket, "..") {
		return Location{}, ProviderError{fmt.Sprintf("bucket %q is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens); set the s3-integrator's bucket option", l.Bucket)}
	}
	if err := checkPath(l.Path); err != nil {
		return Location{}, err
	}
	switch style := get(KeyURIStyle); style {
	case "", "path", "host":
		l.URIStyle = style
	default:
		return Location{}, ProviderError{fmt.Sprintf("s3-uri-style %q is neither path nor host; set the s3-integrator's s3-uri-style option", style)}
	}
	switch v := get(KeyAPIVersion); v {
	case "", "4", "s3v4":
	case "2", "s3v2":
		l.SignatureV2 = true
	default:
		return Location{}, ProviderError{fmt.Sprintf("s3-api-version %q is neither 2 nor 4; set the s3-integrator's s3-api-version option", v)}
	}
	if raw := get(KeyDeleteOlderThan); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 36500 {
			return Location{}, ProviderError{fmt.Sprintf("delete-older-than-days %q is not a number of days (0-36500); set the s3-integrator's experimental-delete-older-than-days option", raw)}
		}
		l.MaxAgeDays = n
	}
	if raw := get(KeyTLSCAChain); raw != "" {
		chain, err := parseCAChain(raw)
		if err != nil {
			return Location{}, err
		}
		l.CAChain = chain
	}
	return l, nil
}

func parseEndpoint(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw // s3-integrator's own default scheme
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	bad := func(why string) error {
		return ProviderError{fmt.Sprintf("endpoint %q %s; set the s3-integrator's endpoint option to a URL such as https://s3.example.com:9000", raw, why)}
	}
	switch {
	case err != nil:
		return nil, bad("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("is not http or https")
	case u.Host == "" || u.Hostname() == "":
		return nil, bad("has no host")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, bad("has a path, query or user part (put a prefix in the path option instead)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("has an invalid port")
		}
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// checkPath refuses what would leave the prefix or read badly as an object key.
func checkPath(p string) error {
	if p == "" {
		return nil
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return ProviderError{fmt.Sprintf("path %q has an empty, . or .. segment; set the s3-integrator's path option to a plain prefix such as etcd/backups", p)}
		}
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return ProviderError{fmt.Sprintf("path %q has control characters or backslashes; set the s3-integrator's path option to a plain prefix", p)}
	}
	return nil
}

// parseCAChain reads tls-ca-chain: s3-integrator sends a JSON list of PEM strings; a bare PEM bundle is
// accepted too. Every certificate must parse.
func parseCAChain(raw string) ([]string, error) {
	var items []string
	if strings.HasPrefix(strings.TrimSpace(raw), "[") {
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return nil, ProviderError{"tls-ca-chain is not a JSON list of PEM certificates; set the s3-integrator's tls-ca-chain option (base64 of a PEM bundle)"}
		}
	} else {
		items = []string{raw}
	}
	var chain []string
	for _, item := range items {
		rest := []byte(item)
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			if _, err := x509.ParseCertificate(block.Bytes); err != nil {
				return nil, ProviderError{fmt.Sprintf("tls-ca-chain holds a certificate that does not parse (%v); set the s3-integrator's tls-ca-chain option", err)}
			}
			chain = append(chain, string(pem.EncodeToMemory(block)))
		}
	}
	if len(chain) == 0 {
		return nil, ProviderError{"tls-ca-chain holds no PEM certificate; set the s3-integrator's tls-ca-chain option (base64 of a PEM bundle)"}
	}
	return chain, nil
}
