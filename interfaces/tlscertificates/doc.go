// Package tlscertificates speaks the `tls-certificates` relation interface in both of the formats that
// providers use today, on the same endpoint:
//
//   - classic (the reactive "tls_certificates v0" of easyrsa and the classic vault charm): everything in unit
//     databags. Each requirer unit writes unit_name, common_name, sans (a JSON list) and certificate_name in
//     its own bag; the provider answers in its unit bags with ca, an optional chain, the global client.cert
//     and client.key, and <unit_name>.server.cert and <unit_name>.server.key. The provider makes the private
//     key and sends it.
//   - v4 (the tls_certificates v4 library of self-signed-certificates, the new vault, lego,
//     manual-tls-certificates): the requirer unit writes certificate_signing_requests, a JSON list of
//     {certificate_signing_request, ca}; the provider's leader answers in its application bag under
//     certificates, a JSON list of {certificate, certificate_signing_request, ca, chain, revoked}. The key
//     never leaves the requirer.
//
// A provider reads only the keys of its own format, so a requirer may write both and take whichever answer
// comes. The functions here are pure: they build and read databags, and leave the hook tools and the checks
// of the certificates themselves (chain, key, names, lifetime) to the caller.
//
// Requirer (each unit, in its own bag on the relation):
//
//	bag, err := tlscertificates.Request{Unit: "etcd/0", CommonName: addr, SANs: sans, CSR: csrPEM}.UnitBag()
//	// ... relation-set bag; later, from the provider's unit bags and application bag:
//	ans, ok, err := tlscertificates.Answer("etcd/0", csrPEM, providerUnitBags, providerAppBag)
//
// Provider (a test CA or a small provider charm): ReadRequest decodes one requirer unit's bag, and
// ClassicAnswer / V4Entry build the reply keys.
package tlscertificates
