package etcdclient

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/gruyaume/goops"
)

// Request is one client request: a v0 relation carries one, a v1 relation one per element of `requests`.
type Request struct {
	RelationID     string
	App            string         // the remote application
	Version        string         // V0 or V1
	RequestID      string         // v1 request-id; "" for v0
	Salt           string         // v1
	Prefix         string         // v0 `prefix`; v1 `resource`
	HasPrefix      bool           // whether the requirer sent the key at all
	CertSecretID   string         // the secret-mtls URI; "" when the certificate came in the databag (cross-model)
	CertificatePEM string         // the mtls-cert content as received ("" when none yet)
	Raw            map[string]any // the v1 request element as received (echoed in `data`); nil for v0
}

// Certificate parses the first certificate of CertificatePEM; as in charmed-etcd, only the first counts.
func (r Request) Certificate() (*x509.Certificate, error) {
	rest := []byte(r.CertificatePEM)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("request %s: mtls-cert holds no PEM certificate", r.Key())
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("request %s: parsing mtls-cert: %w", r.Key(), err)
		}
		return cert, nil
	}
}

// Key identifies the request within the application: "<relation-number>" for v0,
// "<relation-number>-<request-id>" for v1 (charmed-etcd's managed-user keys).
func (r Request) Key() string {
	if r.RequestID == "" {
		return relationNumber(r.RelationID)
	}
	return relationNumber(r.RelationID) + "-" + r.RequestID
}

// RequestProblem says why one request cannot be served and how the requirer can fix it.
type RequestProblem struct {
	RelationID string
	App        string // the requirer application, as on its requests
	Key        string
	Reason     string
}

func (p RequestProblem) Error() string {
	return fmt.Sprintf("relation %s request %s: %s", p.RelationID, p.Key, p.Reason)
}

// ReadRequests reads the requirer application's databag of one relation and resolves each request's
// certificate: from the granted secret `secret-mtls` (refreshed, so a renewed certificate is seen), or
// from a databag `mtls-cert` (cross-model: plaintext, or Fernet-encrypted with the key in our
// `encryption-secret`). An empty databag gives no requests and no error. A request whose data is unusable
// is reported as a RequestProblem and left out, so one bad request does not hide the others.
func ReadRequests(relationID string) ([]Request, []RequestProblem, error) {
	app, bag, err := remoteAppData(relationID)
	if err != nil {
		return nil, nil, err
	}
	if len(bag) == 0 {
		return nil, nil, nil
	}
	dec := certDecoder{relationID: relationID}
	if bag[keyVersion] != V1 {
		req := Request{RelationID: relationID, App: app, Version: V0, CertSecretID: bag[keySecretMTLS]}
		req.Prefix, req.HasPrefix = bag[keyPrefix]
		if reason := checkRequestFields("", bag[keySecretMTLS], bag[keyMTLSCert]); reason != "" {
			return nil, []RequestProblem{{RelationID: relationID, App: app, Key: req.Key(), Reason: reason}}, nil
		}
		pemText, reason := dec.certificate(bag[keySecretMTLS], bag[keyMTLSCert])
		if reason != "" {
			return nil, []RequestProblem{{RelationID: relationID, App: app, Key: req.Key(), Reason: reason}}, nil
		}
		req.CertificatePEM = pemText
		return []Request{req}, nil, nil
	}
	var elems []map[string]any
	if err := json.Unmarshal([]byte(bag[keyRequests]), &elems); err != nil {
		return nil, []RequestProblem{{RelationID: relationID, App: app, Key: relationNumber(relationID),
			Reason: "`requests` is not a JSON array of objects; the requirer must send the etcd_client v1 form"}}, nil
	}
	if len(elems) > MaxRequests {
		return nil, []RequestProblem{{RelationID: relationID, App: app, Key: relationNumber(relationID),
			Reason: fmt.Sprintf("`requests` holds %d requests, more than %d; ask for fewer prefixes on one relation", len(elems), MaxRequests)}}, nil
	}
	var reqs []Request
	var problems []RequestProblem
	for i, elem := range elems {
		req := Request{RelationID: relationID, App: app, Version: V1, Raw: elem}
		req.RequestID, _ = elem[keyRequestID].(string)
		req.Salt, _ = elem[keySalt].(string)
		req.CertSecretID, _ = elem[keySecretMTLS].(string)
		inline, _ := elem[keyMTLSCert].(string)
		if req.RequestID == "" {
			problems = append(problems, RequestProblem{RelationID: relationID, App: app, Key: fmt.Sprintf("%s-#%d", relationNumber(relationID), i),
				Reason: "request has no `request-id`; the requirer must send one per request"})
			continue
		}
		if reason := checkRequestFields(req.RequestID, req.CertSecretID, inline); reason != "" {
			problems = append(problems, RequestProblem{RelationID: relationID, App: app, Key: fmt.Sprintf("%s-#%d", relationNumber(relationID), i), Reason: reason})
			continue
		}
		switch p := elem[keyResource].(type) {
		case string:
			req.Prefix, req.HasPrefix = p, true
		case nil:
		default:
			problems = append(problems, RequestProblem{RelationID: relationID, App: app, Key: req.Key(),
				Reason: "`resource` is not a string; send the key prefix to grant, e.g. \"/my-app/\""})
			continue
		}
		pemText, reason := dec.certificate(req.CertSecretID, inline)
		if reason != "" {
			problems = append(problems, RequestProblem{RelationID: relationID, App: app, Key: req.Key(), Reason: reason})
			continue
		}
		req.CertificatePEM = pemText
		reqs = append(reqs, req)
	}
	return reqs, problems, nil
}

// Bounds on what one requirer may send, so that a hostile or broken one cannot fill the peer relation, a
// status line or a log (the prefix and the certificate itself are bounded where they are judged, in the
// charm's plan).
const (
	MaxRequests        = 32       // requests on one relation
	maxRequestIDBytes  = 128      // a request-id is part of the grant's key in the provider's records
	maxSecretURIBytes  = 256      // Juju secret URIs are well under 100 bytes
	maxInlineCertBytes = 64 << 10 // mtls-cert in the databag, Fernet-encrypted (base64 of the PEM and more)
)

// checkRequestFields says what is wrong with the sizes and characters of a request's identifiers, or "".
func checkRequestFields(requestID, secretURI, inlineCert string) string {
	printable := func(s string) bool {
		return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) })
	}
	switch {
	case len(requestID) > maxRequestIDBytes || !printable(requestID):
		return fmt.Sprintf("`request-id` is longer than %d bytes or has spaces or control characters; send a short identifier", maxRequestIDBytes)
	case len(secretURI) > maxSecretURIBytes || !printable(secretURI):
		return fmt.Sprintf("`secret-mtls` is longer than %d bytes or has spaces or control characters; send the secret's URI", maxSecretURIBytes)
	case len(inlineCert) > maxInlineCertBytes:
		return fmt.Sprintf("`mtls-cert` is %d bytes, more than %d; send only the client's own certificate", len(inlineCert), maxInlineCertBytes)
	}
	return ""
}

// certDecoder resolves a request's certificate, fetching our Fernet key at most once per relation.
type certDecoder struct {
	relationID string
	key        *string
}

// certificate returns the PEM, or a reason (what is wrong and how to fix it) when it cannot be had.
func (d *certDecoder) certificate(secretURI, inline string) (string, string) {
	if secretURI != "" {
		content, err := goops.GetSecretByID(secretURI, false, true)
		if err != nil {
			// Hook-tool errors span lines; a status message must not.
			return "", fmt.Sprintf("cannot read the secret-mtls secret %s (%s); the requirer must grant it to this relation",
				secretURI, strings.Join(strings.Fields(err.Error()), " "))
		}
		if content[keyMTLSCert] == "" {
			return "", fmt.Sprintf("the secret-mtls secret %s has no mtls-cert; the requirer must put its client certificate PEM there", secretURI)
		}
		return content[keyMTLSCert], ""
	}
	if inline == "" {
		return "", ""
	}
	key, err := d.encryptionKey()
	if err != nil {
		return "", err.Error()
	}
	if key == "" {
		return inline, ""
	}
	plain, err := fernetDecrypt(key, inline)
	switch {
	case errors.Is(err, errNotFernet):
		return inline, "" // sent before the requirer saw our key: plaintext, as the spec allows
	case err != nil:
		return "", fmt.Sprintf("cannot decrypt mtls-cert: %v; the requirer must encrypt it with the key in our encryption-secret", err)
	}
	return string(plain), ""
}

// encryptionKey is the Fernet key of our encryption-secret on the relation, "" when we published none.
func (d *certDecoder) encryptionKey() (string, error) {
	if d.key != nil {
		return *d.key, nil
	}
	key := ""
	uri, _, err := ownedSecret(secretLabel(d.relationID, "", "encryption"))
	switch {
	case errors.Is(err, errSecretNotFound):
	case err != nil:
		return "", fmt.Errorf("reading our encryption-secret: %w", err)
	default:
		content, err := goops.GetSecretByID(uri, false, false)
		if err != nil {
			return "", fmt.Errorf("reading our encryption-secret: %w", err)
		}
		key = content[keyEncryptionKey]
	}
	d.key = &key
	return key, nil
}

// Response is what the provider grants one request.
type Response struct {
	Endpoints []string // host:port, no scheme (the `endpoints` key)
	URIs      []string // https://host:port (the user secret's `uris`)
	Version   string   // etcd version
	Username  string   // the certificate CN
	TLSCA     string   // PEM of the CA that signed etcd's client-facing server certificates
}

// Publish creates or updates the provider-owned secrets of each answered request (user: username, uris;
// tls: tls-ca, plus tls="True" for v0 only, since v1 requirers JSON-decode it) granted to the relation, with
// a new revision only when content changed, then writes our application databag: v0 `endpoints`, `version`,
// `secret-user`, `secret-tls` (and `prefix` echoed, as newer charmed-etcd does); v1 `version`, `requests`
// (one response per answered request) and `data` (request-id → request as received, which v1 requirers need
// to compute diffs). responses is keyed by Request.Key(). Leader only.
func Publish(relationID string, reqs []Request, responses map[string]Response) error {
	bag := map[string]string{}
	var v1Responses []map[string]any
	v1Data := map[string]any{}
	v1 := false
	for _, req := range reqs {
		if req.Version == V1 {
			v1 = true
			v1Data[req.RequestID] = req.Raw
		}
		resp, ok := responses[req.Key()]
		if !ok {
			continue
		}
		userURI, tlsURI, err := publishSecrets(relationID, req, resp)
		if err != nil {
			return err
		}
		if req.Version != V1 {
			bag[keyEndpoints] = strings.Join(resp.Endpoints, ",")
			bag[keyVersion] = resp.Version
			bag[keySecretUser] = userURI
			bag[keySecretTLS] = tlsURI
			bag[keyPrefix] = req.Prefix
			continue
		}
		v1Responses = append(v1Responses, map[string]any{
			keyResource: req.Prefix, keyRequestID: req.RequestID, keySalt: req.Salt,
			keyEndpoints: strings.Join(resp.Endpoints, ","), "read-only-endpoints": nil,
			keySecretUser: userURI, keySecretTLS: tlsURI, "secret-extra": nil, "secret-entity": nil,
			keyVersion: resp.Version,
		})
	}
	if v1 {
		if v1Responses == nil {
			v1Responses = []map[string]any{}
		}
		requests, err := json.Marshal(v1Responses)
		if err != nil {
			return fmt.Errorf("encoding the v1 responses of relation %s: %w", relationID, err)
		}
		data, err := json.Marshal(v1Data)
		if err != nil {
			return fmt.Errorf("encoding the v1 data of relation %s: %w", relationID, err)
		}
		bag[keyVersion] = V1
		bag[keyRequests] = string(requests)
		bag[keyData] = string(data)
	}
	if len(bag) == 0 {
		return nil
	}
	return setLocalAppData(relationID, bag)
}

// publishSecrets ensures the user and tls secrets of one request and returns their URIs.
func publishSecrets(relationID string, req Request, resp Response) (string, string, error) {
	user := map[string]string{keyUsername: resp.Username, keyURIs: strings.Join(resp.URIs, ",")}
	tls := map[string]string{keyTLSCA: resp.TLSCA}
	if req.Version != V1 {
		tls[keyTLS] = "True"
	}
	userURI, err := ensureSecret(relationID, secretLabel(relationID, req.RequestID, "user"), user)
	if err != nil {
		return "", "", err
	}
	tlsURI, err := ensureSecret(relationID, secretLabel(relationID, req.RequestID, "tls"), tls)
	if err != nil {
		return "", "", err
	}
	return userURI, tlsURI, nil
}

// Withdraw removes the provider-owned user and tls secrets of the relation whose request key is not in
// keepKeys (all of them on relation-broken), and clears what our databag says about the withdrawn requests
// when the relation still exists. Leader only.
func Withdraw(relationID string, keepKeys []string) error {
	broken := relationBroken(relationID)
	err := removeOwnedSecrets(func(label string) bool {
		if label == secretLabel(relationID, "", "encryption") {
			return broken // the shared key outlives requests, not the relation
		}
		key, ok := requestKeyOfLabel(relationID, label)
		return ok && !slices.Contains(keepKeys, key)
	})
	if err != nil {
		return err
	}
	if broken {
		return nil // the databag goes with the relation
	}
	current, err := localAppData(relationID)
	if err != nil {
		return err
	}
	return setLocalAppData(relationID, withdrawnBag(relationID, current, keepKeys))
}

// withdrawnBag is the databag update that forgets every request not in keepKeys.
func withdrawnBag(relationID string, current map[string]string, keepKeys []string) map[string]string {
	if current[keyVersion] != V1 {
		if slices.Contains(keepKeys, relationNumber(relationID)) {
			return nil
		}
		return map[string]string{keyEndpoints: "", keyVersion: "", keySecretUser: "", keySecretTLS: "", keyPrefix: ""}
	}
	var responses []map[string]any
	if err := json.Unmarshal([]byte(current[keyRequests]), &responses); err != nil {
		return map[string]string{keyRequests: "[]"}
	}
	kept := []map[string]any{}
	for _, r := range responses {
		id, _ := r[keyRequestID].(string)
		if slices.Contains(keepKeys, relationNumber(relationID)+"-"+id) {
			kept = append(kept, r)
		}
	}
	out, _ := json.Marshal(kept) // re-encoding what we just decoded cannot fail
	return map[string]string{keyRequests: string(out)}
}

// requestKeyOfLabel maps one of our user/tls secret labels on the relation back to its request key.
func requestKeyOfLabel(relationID, label string) (string, bool) {
	prefix := relationEndpoint(relationID) + "." + relationNumber(relationID) + "."
	rest, ok := strings.CutPrefix(label, prefix)
	if !ok {
		return "", false
	}
	for _, suffix := range []string{"user.secret", "tls.secret"} {
		if mid, ok := strings.CutSuffix(rest, suffix); ok {
			if mid == "" {
				return relationNumber(relationID), true
			}
			return relationNumber(relationID) + "-" + strings.TrimSuffix(mid, "."), true
		}
	}
	return "", false
}

// relationBroken reports whether this hook is the relation's own relation-broken.
func relationBroken(relationID string) bool {
	env := goops.GetEnvGetter()
	return strings.HasSuffix(goops.ReadEnv().HookName, "-relation-broken") &&
		relationNumber(env.Get("JUJU_RELATION_ID")) == relationNumber(relationID)
}

// OfferEncryption shares a Fernet key with a requirer in another model (call it as leader when the relation
// is created): Juju cannot pass the requirer's secret across models, so such a requirer sends its
// certificate in the databag, encrypted with this key. Same-model relations need nothing and get nothing.
func OfferEncryption(relationID string) error {
	remote, err := goops.GetRelationModelUUID(relationID)
	if err != nil {
		return fmt.Errorf("finding the model of relation %s: %w", relationID, err)
	}
	if remote == "" || remote == goops.ReadEnv().ModelUUID {
		return nil
	}
	label := secretLabel(relationID, "", "encryption")
	uri, _, err := ownedSecret(label)
	if errors.Is(err, errSecretNotFound) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("generating an encryption key: %w", err)
		}
		uri, err = ensureSecret(relationID, label, map[string]string{keyEncryptionKey: base64.URLEncoding.EncodeToString(key)})
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return setLocalAppData(relationID, map[string]string{keyEncryptionSecret: uri})
}

// removeOwnedSecrets removes every secret this application owns whose label remove selects (leader only).
func removeOwnedSecrets(remove func(label string) bool) error {
	ids, err := goops.GetSecretIDs()
	if err != nil {
		return fmt.Errorf("listing our secrets: %w", err)
	}
	for _, id := range ids {
		info, err := goops.GetSecretInfoByID(id)
		if err != nil {
			return fmt.Errorf("reading secret %s: %w", id, err)
		}
		for _, si := range info {
			if !remove(si.Label) {
				continue
			}
			if err := goops.RemoveSecret(id); err != nil {
				return fmt.Errorf("removing secret %q: %w", si.Label, err)
			}
		}
	}
	return nil
}
