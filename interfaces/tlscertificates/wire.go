package tlscertificates

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Classic keys, requirer side (raw strings except sans, which is JSON).
const (
	KeyUnitName        = "unit_name"
	KeyCommonName      = "common_name"
	KeySANs            = "sans"
	KeyCertificateName = "certificate_name"
)

// Classic keys, provider side (every provider unit bag; the first non-empty value wins).
const (
	KeyCA         = "ca"
	KeyChain      = "chain"
	KeyClientCert = "client.cert"
	KeyClientKey  = "client.key"
)

// V4 keys.
const (
	KeyCSRs          = "certificate_signing_requests" // requirer unit (or app) bag
	KeyCertificates  = "certificates"                 // provider app bag
	KeyRequestErrors = "request_errors"               // provider app bag (charmlibs 1.3.0 and later): CSRs it refuses, and why
)

// maxBagValue bounds what is parsed from a provider's bag: a certificate chain is a few KiB, so a value of
// a MiB is a broken or hostile provider, not a certificate.
const maxBagValue = 1 << 20

// Format is which flavour of the interface an answer came in.
type Format string

const (
	Classic Format = "classic"
	V4      Format = "v4"
)

// ClassicUnitName is how the classic format names a unit in keys: etcd/0 becomes etcd_0.
func ClassicUnitName(unit string) string { return strings.ReplaceAll(unit, "/", "_") }

// Request is what one requirer unit asks for: one server certificate, in both formats.
type Request struct {
	Unit       string   // the Juju unit name, e.g. etcd/0
	CommonName string   // the classic common_name (layer-etcd sends the unit's address)
	SANs       []string // DNS names and IP addresses
	CSR        string   // PEM CSR for the v4 format, made from a key that stays on the unit; "" for classic only
}

// UnitBag is the requirer unit's bag for the request: the classic keys, and the v4 key when a CSR is given.
func (r Request) UnitBag() (map[string]string, error) {
	if r.Unit == "" || r.CommonName == "" {
		return nil, errors.New("a request needs the unit name and a common name")
	}
	sans, err := json.Marshal(nonNil(r.SANs))
	if err != nil {
		return nil, err
	}
	name := ClassicUnitName(r.Unit)
	bag := map[string]string{KeyUnitName: name, KeyCommonName: r.CommonName, KeySANs: string(sans),
		KeyCertificateName: name}
	if r.CSR != "" {
		raw, err := json.Marshal([]csrEntry{{CSR: strings.TrimSpace(r.CSR), CA: false}})
		if err != nil {
			return nil, err
		}
		bag[KeyCSRs] = string(raw)
	}
	return bag, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type csrEntry struct {
	CSR string `json:"certificate_signing_request"`
	CA  bool   `json:"ca"`
}

// V4Entry is one element of the provider's certificates list.
type V4Entry struct {
	Certificate string   `json:"certificate"`
	CSR         string   `json:"certificate_signing_request"`
	CA          string   `json:"ca"`
	Chain       []string `json:"chain,omitempty"`
	Revoked     bool     `json:"revoked,omitempty"`
}

// Issued is a provider's answer to this unit's request.
type Issued struct {
	Format      Format
	CA          string // the CA certificate, PEM
	Chain       string // intermediates (and perhaps the leaf and the CA), PEM, possibly empty
	Certificate string // the leaf, PEM (a classic provider may put a text dump before it)
	Key         string // classic only: the provider-made private key, PEM
}

// ProviderProblem is provider data that cannot be used; Reason says what is wrong in the provider's words.
type ProviderProblem struct{ Reason string }

func (p ProviderProblem) Error() string { return p.Reason }

// Answer finds the answer to this unit's request among the provider's unit bags (classic) and its
// application bag (v4). A v4 answer to csrPEM wins over a classic one, as its key never left this unit. It
// returns false, and no error, while the provider has not answered.
func Answer(unit, csrPEM string, providerUnits []map[string]string, providerApp map[string]string) (Issued, bool, error) {
	if csrPEM != "" {
		if iss, ok, err := answerV4(csrPEM, providerApp); err != nil || ok {
			return iss, ok, err
		}
	}
	return answerClassic(unit, providerUnits)
}

func answerClassic(unit string, bags []map[string]string) (Issued, bool, error) {
	name := ClassicUnitName(unit)
	first := func(key string) string {
		for _, b := range bags {
			if v := b[key]; strings.TrimSpace(v) != "" {
				return v
			}
		}
		return ""
	}
	iss := Issued{Format: Classic, CA: first(KeyCA), Chain: first(KeyChain),
		Certificate: first(name + ".server.cert"), Key: first(name + ".server.key")}
	if iss.Certificate == "" && iss.Key == "" {
		return Issued{}, false, nil
	}
	for _, v := range []struct{ key, val string }{{KeyCA, iss.CA}, {KeyChain, iss.Chain},
		{name + ".server.cert", iss.Certificate}, {name + ".server.key", iss.Key}} {
		if len(v.val) > maxBagValue {
			return Issued{}, false, ProviderProblem{Reason: fmt.Sprintf("%s is %d bytes, more than any certificate", v.key, len(v.val))}
		}
	}
	switch {
	case iss.CA == "":
		return Issued{}, false, ProviderProblem{Reason: "the provider sent a certificate but no ca"}
	case iss.Certificate == "":
		return Issued{}, false, ProviderProblem{Reason: fmt.Sprintf("the provider sent %s.server.key but no certificate", name)}
	case iss.Key == "":
		return Issued{}, false, ProviderProblem{Reason: fmt.Sprintf("the provider sent %s.server.cert but no key", name)}
	}
	return iss, true, nil
}

// requestError is one element of the provider's request_errors list.
type requestError struct {
	CSR   string `json:"certificate_signing_request"`
	Error struct {
		Code    int    `json:"code"`
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

// refusal is the provider's stated reason for refusing csrPEM, or "".
func refusal(csrPEM string, app map[string]string) string {
	raw := app[KeyRequestErrors]
	if strings.TrimSpace(raw) == "" || len(raw) > maxBagValue {
		return ""
	}
	var errs []requestError
	if json.Unmarshal([]byte(raw), &errs) != nil {
		return ""
	}
	want := pemDER(csrPEM)
	for _, e := range errs {
		if want != nil && bytes.Equal(pemDER(e.CSR), want) {
			msg := fmt.Sprintf("the provider refused this unit's request (%d %s)", e.Error.Code, e.Error.Name)
			if m := strings.TrimSpace(e.Error.Message); m != "" {
				msg += ": " + bounded(m, 200)
			}
			return msg
		}
	}
	return ""
}

// bounded cuts a provider's text for a status line.
func bounded(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func answerV4(csrPEM string, app map[string]string) (Issued, bool, error) {
	if why := refusal(csrPEM, app); why != "" {
		return Issued{}, false, ProviderProblem{Reason: why}
	}
	raw := app[KeyCertificates]
	if strings.TrimSpace(raw) == "" {
		return Issued{}, false, nil
	}
	if len(raw) > 16*maxBagValue {
		return Issued{}, false, ProviderProblem{Reason: fmt.Sprintf("certificates is %d bytes", len(raw))}
	}
	var entries []V4Entry
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		return Issued{}, false, ProviderProblem{Reason: fmt.Sprintf("certificates is not a JSON list of certificate entries: %v", err)}
	}
	want := pemDER(csrPEM)
	if want == nil {
		return Issued{}, false, nil
	}
	for _, e := range entries {
		if e.Revoked || !bytes.Equal(pemDER(e.CSR), want) {
			continue
		}
		if e.Certificate == "" || e.CA == "" {
			return Issued{}, false, ProviderProblem{Reason: "the provider's entry for this unit's CSR lacks the certificate or the ca"}
		}
		return Issued{Format: V4, CA: e.CA, Chain: strings.Join(e.Chain, "\n"), Certificate: e.Certificate}, true, nil
	}
	return Issued{}, false, nil
}

// pemDER is the DER of the first PEM block in s, so that CSRs compare whatever their whitespace.
func pemDER(s string) []byte {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil
	}
	return b.Bytes
}

// ClassicRequest is a classic request as a provider reads it from one requirer unit's bag.
type ClassicRequest struct {
	UnitName   string // unit_name, e.g. etcd_0 (what the answer keys are named after)
	CommonName string
	SANs       []string
}

// ReadRequests decodes a requirer unit's bag: its classic request (ok false when it has none) and its v4
// CSRs. remoteUnit names the unit when the bag has no unit_name, as the reactive provider did.
func ReadRequests(remoteUnit string, bag map[string]string) (classic ClassicRequest, ok bool, csrs []string, err error) {
	if cn := bag[KeyCommonName]; cn != "" {
		classic = ClassicRequest{UnitName: bag[KeyUnitName], CommonName: cn}
		if classic.UnitName == "" {
			classic.UnitName = ClassicUnitName(remoteUnit)
		}
		if s := bag[KeySANs]; s != "" {
			if err := json.Unmarshal([]byte(s), &classic.SANs); err != nil {
				return ClassicRequest{}, false, nil, fmt.Errorf("sans is not a JSON list of strings: %w", err)
			}
		}
		ok = true
	}
	if s := bag[KeyCSRs]; s != "" {
		var entries []csrEntry
		if err := json.Unmarshal([]byte(s), &entries); err != nil {
			return ClassicRequest{}, false, nil, fmt.Errorf("%s is not a JSON list: %w", KeyCSRs, err)
		}
		for _, e := range entries {
			if !e.CA && e.CSR != "" {
				csrs = append(csrs, e.CSR)
			}
		}
	}
	return classic, ok, csrs, nil
}

// ClassicAnswer is the keys a classic provider writes into its unit bag for one request.
func ClassicAnswer(unitName, certPEM, keyPEM string) map[string]string {
	return map[string]string{unitName + ".server.cert": certPEM, unitName + ".server.key": keyPEM}
}

// V4Certificates encodes the provider's certificates list.
func V4Certificates(entries []V4Entry) (string, error) {
	raw, err := json.Marshal(entries)
	return string(raw), err
}
