package s3backup

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), "\n")
}

// The v0 shape, key for key as s3-integrator 1.x writes it.
func v0Bag(t *testing.T) map[string]string {
	chain, _ := json.Marshal([]string{testCAPEM(t)})
	return map[string]string{
		"access-key": "AKIAEXAMPLE", "secret-key": "wJalrEXAMPLE", "bucket": "etcd", "endpoint": "https://s3.example.com:9000/",
		"region": "us-west-2", "path": "/backups/", "s3-uri-style": "path", "storage-class": "STANDARD",
		"s3-api-version": "4", "tls-ca-chain": string(chain), "delete-older-than-days": "30",
		"attributes": `["Cache-Control=max-age=90000"]`, "data": `{"bucket": "relation-7"}`,
	}
}

func TestGivenAV0ProviderBagWhenParsedThenEveryFieldIsNormalised(t *testing.T) {
	l, err := ParseLocation(v0Bag(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Endpoint.String() != "https://s3.example.com:9000" || l.Bucket != "etcd" || l.Path != "backups" ||
		l.Region != "us-west-2" || l.URIStyle != "path" || l.SignatureV2 || l.MaxAgeDays != 30 || len(l.CAChain) != 1 {
		t.Errorf("parsed %+v", l)
	}
	if l.String() != "https://s3.example.com:9000/etcd/backups" || strings.Contains(l.String(), "wJalr") {
		t.Errorf("String() = %q", l.String())
	}
}

func TestGivenAV1ProviderWhenTheCredentialsAreInTheSecretThenTheSecretWins(t *testing.T) {
	bag := v0Bag(t)
	delete(bag, "access-key")
	delete(bag, "secret-key")
	bag["secret-extra"], bag["lib-version"] = "secret://abc", "1.0"
	if _, err := ParseLocation(bag, nil); !errors.As(err, new(Incomplete)) {
		t.Fatalf("without the secret: %v, want Incomplete", err)
	}
	l, err := ParseLocation(bag, map[string]string{"access-key": "A", "secret-key": "S"})
	if err != nil || l.AccessKey != "A" || l.SecretKey != "S" {
		t.Fatalf("%+v %v", l, err)
	}
}

func TestGivenBadProviderDataWhenParsedThenTheErrorNamesTheOptionToFix(t *testing.T) {
	for name, tc := range map[string]struct {
		key, value, want string
	}{
		"no scheme host":     {"endpoint", "https://", "has no host"},
		"ftp":                {"endpoint", "ftp://s3", "not http or https"},
		"path in endpoint":   {"endpoint", "https://s3.example.com/bucket", "has a path"},
		"user in endpoint":   {"endpoint", "https://u:p@s3.example.com", "user part"},
		"bad port":           {"endpoint", "https://s3:99999", "invalid port"},
		"uppercase bucket":   {"bucket", "Etcd", "not a valid S3 bucket name"},
		"short bucket":       {"bucket", "ab", "not a valid S3 bucket name"},
		"dotdot path":        {"path", "a/../b", "segment"},
		"control in path":    {"path", "a\x01b", "control characters"},
		"uri style":          {"s3-uri-style", "virtual", "neither path nor host"},
		"api version":        {"s3-api-version", "3", "neither 2 nor 4"},
		"days":               {"delete-older-than-days", "-1", "delete-older-than-days"},
		"ca not json":        {"tls-ca-chain", "[not json", "not a JSON list"},
		"ca not pem":         {"tls-ca-chain", `["hello"]`, "no PEM certificate"},
		"ca garbage cert":    {"tls-ca-chain", `["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]`, "does not parse"},
		"huge endpoint":      {"endpoint", "https://" + strings.Repeat("a", 5000), "more than the 2048 accepted"},
		"huge ca":            {"tls-ca-chain", strings.Repeat("a", 70<<10), "more than the 65536 accepted"},
		"newline credential": {"secret-key", "a\nb", "not a usable credential"},
	} {
		t.Run(name, func(t *testing.T) {
			bag := v0Bag(t)
			bag[tc.key] = tc.value
			_, err := ParseLocation(bag, nil)
			var pe ProviderError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s=%q: %v, want a ProviderError saying %q", tc.key, tc.value, err, tc.want)
			}
		})
	}
}

func TestGivenAProviderThatHasNotAnsweredWhenParsedThenItIsIncompleteNotBroken(t *testing.T) {
	_, err := ParseLocation(map[string]string{"bucket": "etcd", "data": "{}"}, nil)
	var inc Incomplete
	if !errors.As(err, &inc) || strings.Join(inc.Missing, ",") != "access-key,secret-key,endpoint" {
		t.Fatalf("%v", err)
	}
}

func TestGivenAnEndpointWithoutSchemeThenHTTPSIsAssumedAsS3IntegratorDoes(t *testing.T) {
	bag := v0Bag(t)
	bag["endpoint"] = "minio.local:9000"
	l, err := ParseLocation(bag, nil)
	if err != nil || l.Endpoint.String() != "https://minio.local:9000" {
		t.Fatalf("%v %v", l.Endpoint, err)
	}
}

func TestFingerprintChangesWithCredentialsAndPlace(t *testing.T) {
	a, _ := ParseLocation(v0Bag(t), nil)
	b := a
	b.SecretKey = "other"
	c := a
	c.Path = "elsewhere"
	if a.Fingerprint() == b.Fingerprint() || a.Fingerprint() == c.Fingerprint() {
		t.Error("fingerprint did not change")
	}
	again, _ := ParseLocation(v0Bag(t), nil)
	again.CAChain = a.CAChain // the test CA differs per call
	if again.Fingerprint() != a.Fingerprint() {
		t.Error("the same location gave another fingerprint")
	}
}

func TestValidIDAcceptsOnlyUTCSeconds(t *testing.T) {
	for id, want := range map[string]bool{
		"2026-12-06T08:30:00Z": true, "2026-13-06T08:30:00Z": false, "2026-12-06T08:30:00": false,
		"../2026-12-06T08:30:00Z": false, "2026-12-06T08:30:00Z/x": false, "": false,
	} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}

func TestGivenScheduledAndManualBackupsOfSeveralOwnersWhenRetentionRunsThenOnlyOurOldScheduledOnesGo(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	me := Owner{Model: "m1", Application: "etcd"}
	var ms []Manifest
	add := func(ageHours int, kind string, owner Owner) {
		taken := now.Add(-time.Duration(ageHours) * time.Hour)
		ms = append(ms, Manifest{ID: taken.Format(IDLayout), Taken: taken, Kind: kind, Model: owner.Model, Application: owner.Application})
	}
	for h := 1; h <= 6; h++ {
		add(h, KindScheduled, me)
	}
	add(100, KindManual, me)
	add(200, KindScheduled, Owner{Model: "m2", Application: "etcd"})
	add(300, KindScheduled, Owner{Model: "m1", Application: "etcd-b"})
	ids := func(ms []Manifest) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	got := ids(ToPrune(ms, me, Retention{Keep: 4}, now))
	want := []string{now.Add(-5 * time.Hour).Format(IDLayout), now.Add(-6 * time.Hour).Format(IDLayout)}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keep 4: pruned %v, want %v", got, want)
	}
	if got := ToPrune(ms, me, Retention{Keep: 10, MaxAge: 150 * time.Minute}, now); len(got) != 4 {
		t.Errorf("max age 2.5h: pruned %v, want the 4 older than that", ids(got))
	}
	if got := ToPrune(ms, me, Retention{MaxAge: time.Minute}, now); len(got) != 5 {
		t.Errorf("max age 1m: pruned %v, want all but the newest", ids(got))
	}
}
