package tlscertificates

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/pki"
)

func testCSR(t *testing.T) string {
	t.Helper()
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(key, "10.0.0.5", []string{"10.0.0.5", "etcd-0"})
	if err != nil {
		t.Fatal(err)
	}
	return string(csr)
}

// Given a unit's request, when its bag is written, then a classic provider finds layer-etcd's keys and a v4
// provider finds one non-CA CSR, and each decodes what the other side wrote.
func TestGivenARequestWhenItsBagIsWrittenThenBothFormatsReadIt(t *testing.T) {
	csr := testCSR(t)
	bag, err := Request{Unit: "etcd/0", CommonName: "10.0.0.5", SANs: []string{"10.0.0.5", "etcd-0"}, CSR: csr + "\n"}.UnitBag()
	if err != nil {
		t.Fatal(err)
	}
	if bag[KeyUnitName] != "etcd_0" || bag[KeyCertificateName] != "etcd_0" || bag[KeyCommonName] != "10.0.0.5" ||
		bag[KeySANs] != `["10.0.0.5","etcd-0"]` {
		t.Fatalf("classic keys: %v", bag)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(bag[KeyCSRs]), &entries); err != nil || len(entries) != 1 || entries[0]["ca"] != false {
		t.Fatalf("v4 key %q: %v", bag[KeyCSRs], err)
	}
	classic, ok, csrs, err := ReadRequests("etcd/0", bag)
	if err != nil || !ok || classic.UnitName != "etcd_0" || len(classic.SANs) != 2 || len(csrs) != 1 {
		t.Fatalf("read back: %+v %v %v %v", classic, ok, csrs, err)
	}
}

// Given easyrsa's answer spread over two provider units (the CA on the leader only) with a text dump before
// the certificate, when the requirer reads it, then it takes each key's first non-empty value.
func TestGivenAClassicAnswerOnTwoProviderUnitsWhenReadThenTheFirstNonEmptyValueWins(t *testing.T) {
	units := []map[string]string{
		{"etcd_0.server.cert": "Certificate:\n    Data: ...\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
			"etcd_0.server.key": "KEY", KeyClientCert: "C"},
		{KeyCA: "CA", "etcd_1.server.cert": "OTHER"},
	}
	iss, ok, err := Answer("etcd/0", "", units, nil)
	if err != nil || !ok {
		t.Fatalf("answer: %v %v", ok, err)
	}
	if iss.Format != Classic || iss.CA != "CA" || iss.Key != "KEY" || !strings.Contains(iss.Certificate, "AAAA") {
		t.Fatalf("issued: %+v", iss)
	}
	if _, ok, err := Answer("etcd/2", "", units, nil); ok || err != nil {
		t.Fatalf("a unit with no answer: %v %v", ok, err)
	}
}

// Given a v4 provider's list with a revoked entry and one for this unit's CSR in other whitespace (and a
// refusal of another unit's CSR), when the requirer reads it, then it takes the live entry and joins the chain.
func TestGivenAV4AnswerWhenReadThenTheEntryForThisCSRIsTaken(t *testing.T) {
	csr := testCSR(t)
	list, err := V4Certificates([]V4Entry{
		{Certificate: "OLD", CSR: csr, CA: "CA0", Revoked: true},
		{Certificate: "LEAF", CSR: strings.TrimSpace(csr), CA: "CA1", Chain: []string{"LEAF", "CA1"}},
		{Certificate: "ELSE", CSR: testCSR(t), CA: "CA1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	others := `[{"certificate_signing_request":` + jsonString(testCSR(t)) + `,"error":{"code":201,"name":"server_error"}}]`
	iss, ok, err := Answer("etcd/0", csr+"\n\n", nil, map[string]string{KeyCertificates: list, KeyRequestErrors: others})
	if err != nil || !ok || iss.Format != V4 || iss.Certificate != "LEAF" || iss.CA != "CA1" || iss.Chain != "LEAF\nCA1" {
		t.Fatalf("issued %+v ok=%v err=%v", iss, ok, err)
	}
}

// Given broken provider data, when read, then the problem is named and nothing is taken.
func TestGivenBrokenProviderDataWhenReadThenTheProblemIsNamed(t *testing.T) {
	csr := testCSR(t)
	for name, c := range map[string]struct {
		units []map[string]string
		app   map[string]string
		want  string
	}{
		"no ca":            {units: []map[string]string{{"etcd_0.server.cert": "C", "etcd_0.server.key": "K"}}, want: "no ca"},
		"no key":           {units: []map[string]string{{KeyCA: "CA", "etcd_0.server.cert": "C"}}, want: "no key"},
		"not json":         {app: map[string]string{KeyCertificates: "{"}, want: "not a JSON list"},
		"huge":             {units: []map[string]string{{KeyCA: strings.Repeat("A", maxBagValue+1), "etcd_0.server.cert": "C", "etcd_0.server.key": "K"}}, want: "bytes"},
		"entry without ca": {app: map[string]string{KeyCertificates: `[{"certificate":"C","certificate_signing_request":` + jsonString(csr) + `}]`}, want: "lacks"},
		"refused": {app: map[string]string{KeyRequestErrors: `[{"certificate_signing_request":` + jsonString(csr) +
			`,"error":{"code":101,"name":"ip_not_allowed","message":"IP SANs are not\nallowed"}}]`},
			want: "refused this unit's request (101 ip_not_allowed): IP SANs are not allowed"},
	} {
		_, ok, err := Answer("etcd/0", csr, c.units, c.app)
		var p ProviderProblem
		if ok || !errors.As(err, &p) || !strings.Contains(p.Reason, c.want) {
			t.Errorf("%s: ok=%v err=%v, want a problem naming %q", name, ok, err, c.want)
		}
	}
}

func jsonString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}
