package pki

import "testing"

func BenchmarkSign(b *testing.B) {
	ca := mustCA(b, "bench-ca")
	csr := mustCSR(b, mustKey(b), "etcd/0", "10.0.0.1", "127.0.0.1", "etcd-0")
	b.ResetTimer()
	for b.Loop() {
		if _, err := Sign(ca, csr, ServerAndClient, MemberLifetime); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewPrivateKey(b *testing.B) {
	for b.Loop() {
		if _, err := NewPrivateKey(); err != nil {
			b.Fatal(err)
		}
	}
}
