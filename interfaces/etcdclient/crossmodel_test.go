package etcdclient_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/interfaces/etcdclient"
	"github.com/etcd-charm/etcd/interfaces/internal/hooktest"
	"github.com/gruyaume/goops"
	"github.com/gruyaume/goops/goopstest"
)

// fernetToken encrypts plaintext as the Fernet spec says, the way a Python requirer's cryptography.Fernet does.
func fernetToken(t *testing.T, key string, plaintext []byte) string {
	t.Helper()
	k, err := base64.URLEncoding.DecodeString(key)
	if err != nil || len(k) != 32 {
		t.Fatalf("bad key %q: %v", key, err)
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append([]byte(string(plaintext)), []byte(strings.Repeat(string(rune(pad)), pad))...)
	block, err := aes.NewCipher(k[16:])
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	msg := []byte{0x80}
	msg = binary.BigEndian.AppendUint64(msg, uint64(time.Now().Unix()))
	msg = append(append(msg, iv...), ct...)
	mac := hmac.New(sha256.New, k[:16])
	mac.Write(msg)
	return base64.URLEncoding.EncodeToString(mac.Sum(msg))
}

func newFernetKey(t *testing.T) string {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.URLEncoding.EncodeToString(k)
}

// A cross-model requirer cannot grant its secret, so it sends mtls-cert in the databag: plaintext at first,
// Fernet-encrypted once it has seen the key we share in our encryption secret.
func TestCrossModelCertificateFromDatabag(t *testing.T) {
	m, num, provRel, reqRel := relatedModel(t)
	cert := hooktest.ClientCert(t, "remote-app")
	sendCert := func(value string) {
		t.Helper()
		must(t, m.Exec("app/0", func() error {
			return goops.SetAppRelationData(reqRel, map[string]string{"prefix": "/remote/", "mtls-cert": value})
		}))
	}

	// Given no encryption key of ours yet, a plaintext certificate is taken as it is
	sendCert(cert)
	reqs, problems := readRequests(t, m, "etcd/1", provRel)
	if len(problems) != 0 || len(reqs) != 1 || reqs[0].CertificatePEM != cert || reqs[0].CertSecretID != "" {
		t.Fatalf("plaintext: %+v %+v", reqs, problems)
	}

	// Given our encryption secret holds a key, an encrypted certificate is decrypted on every unit
	key := newFernetKey(t)
	must(t, m.Exec("etcd/0", func() error {
		_, err := goops.AddSecret(&goops.AddSecretOptions{Label: fmt.Sprintf("etcd-client.%d.encryption.secret", num),
			Content: map[string]string{"encryption-key": key}})
		return err
	}))
	sendCert(fernetToken(t, key, []byte(cert)))
	for _, unit := range []string{"etcd/0", "etcd/1"} {
		reqs, problems = readRequests(t, m, unit, provRel)
		if len(problems) != 0 || len(reqs) != 1 || reqs[0].CertificatePEM != cert {
			t.Fatalf("%s encrypted: %+v %+v", unit, reqs, problems)
		}
	}
	// and a plaintext one sent before the requirer saw the key still counts
	sendCert(cert)
	if reqs, _ = readRequests(t, m, "etcd/0", provRel); len(reqs) != 1 || reqs[0].CertificatePEM != cert {
		t.Fatalf("plaintext after key: %+v", reqs)
	}

	// When the token was made with another key, the request is refused with what to fix
	sendCert(fernetToken(t, newFernetKey(t), []byte(cert)))
	reqs, problems = readRequests(t, m, "etcd/0", provRel)
	if len(reqs) != 0 || len(problems) != 1 || !strings.Contains(problems[0].Reason, "encryption-secret") {
		t.Fatalf("foreign token: %+v %+v", reqs, problems)
	}
}

func TestCheckProviderV0(t *testing.T) {
	good := map[string]string{"endpoints": "10.0.0.1:2379,10.0.0.2:2379", "version": "3.6.16",
		"secret-tls": "secret://u/t", "secret-user": "secret://u/s"}
	if err := etcdclient.CheckProviderV0(good); err != nil {
		t.Fatalf("a complete databag was refused: %v", err)
	}
	with := func(k, v string) map[string]string {
		bag := map[string]string{}
		for key, val := range good {
			bag[key] = val
		}
		if v == "<delete>" {
			delete(bag, k)
		} else {
			bag[k] = v
		}
		return bag
	}
	for _, c := range []struct {
		bag  map[string]string
		want string
	}{
		{with("endpoints", "<delete>"), `"endpoints" is missing`},
		{with("secret-user", ""), `"secret-user" is missing`},
		{with("version", "3"), `"version" must be a string`},
		{with("secret-tls", `["a","b"]`), `"secret-tls" must be a string`},
		{with("endpoints", "true"), `"endpoints" must be a string`},
	} {
		err := etcdclient.CheckProviderV0(c.bag)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckProviderV0(%v) = %v, want an error containing %s", c.bag, err, c.want)
		}
	}
}

func TestOfferEncryptionOnlyAcrossModels(t *testing.T) {
	run := func(remoteModel string) goopstest.State {
		t.Helper()
		ctx := goopstest.NewContext(func() error { return etcdclient.OfferEncryption("etcd-client:4") },
			goopstest.WithUnitID("etcd/0"))
		out := ctx.Run("etcd-client-relation-created", goopstest.State{
			Leader: true, Model: goopstest.Model{UUID: "11111111-1111-4111-8111-111111111111"},
			Relations: []goopstest.Relation{{Endpoint: "etcd-client", ID: "etcd-client:4", RemoteAppName: "k8s",
				RemoteModelUUID: remoteModel, LocalAppData: goopstest.DataBag{},
				RemoteUnitsData: map[goopstest.UnitID]goopstest.DataBag{"k8s/0": {}}}},
		})
		if ctx.CharmErr != nil {
			t.Fatal(ctx.CharmErr)
		}
		return out
	}
	// Given a requirer in our own model, nothing is shared
	if out := run(""); len(out.Secrets) != 0 || len(out.Relations[0].LocalAppData) != 0 {
		t.Fatalf("same model: secrets %+v databag %v", out.Secrets, out.Relations[0].LocalAppData)
	}
	// Given a requirer in another model, a 32-byte key goes in our labelled secret, named in our databag
	out := run("22222222-2222-4222-8222-222222222222")
	if len(out.Secrets) != 1 || out.Secrets[0].Label != "etcd-client.4.encryption.secret" {
		t.Fatalf("secrets %+v", out.Secrets)
	}
	key, err := base64.URLEncoding.DecodeString(out.Secrets[0].Content["encryption-key"])
	if err != nil || len(key) != 32 {
		t.Fatalf("encryption key %q: %v", out.Secrets[0].Content["encryption-key"], err)
	}
	if !strings.HasPrefix(out.Relations[0].LocalAppData["encryption-secret"], "secret") {
		t.Fatalf("databag %v", out.Relations[0].LocalAppData)
	}
}
