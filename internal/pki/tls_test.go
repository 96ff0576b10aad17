package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// tlsServer listens on addr with a member certificate and requires client
// certificates from ca, as etcd does. Each accepted connection's server-side
// handshake result is delivered on the returned channel.
func tlsServer(t *testing.T, addr string, ca []byte, member KeyPair) (string, <-chan error) {
	t.Helper()
	cert, err := tls.X509KeyPair(member.CertPEM, member.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no CA in PEM")
	}
	ln, err := tls.Listen("tcp", addr, &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	results := make(chan error, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			err = conn.(*tls.Conn).Handshake()
			if err == nil {
				_, err = conn.Write([]byte("ok"))
			}
			results <- err
			conn.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String(), results
}

// dial connects as a client with cert, trusting ca and expecting the server
// to prove serverName, and reads the server's greeting so that a client
// certificate rejected after a TLS 1.3 handshake also surfaces as an error.
func dial(t *testing.T, addr, serverName string, ca []byte, client KeyPair) error {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if client.CertPEM != nil {
		c, err := tls.X509KeyPair(client.CertPEM, client.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		// GetClientCertificate presents the certificate unconditionally;
		// with Certificates, Go would quietly withhold one the server's
		// acceptable-CA list does not name, hiding what we want to test.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "ok" {
		return errors.New("unexpected greeting " + string(buf))
	}
	return nil
}

func recv(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("server handshake result never arrived")
		return nil
	}
}

func TestTLSHandshake(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	other := mustCA(t, "other-ca")

	// The member is bound to 127.0.0.2 (its "unit address") and 127.0.0.1.
	memberKey := mustKey(t)
	member := KeyPair{
		CertPEM: mustSign(t, ca, mustCSR(t, memberKey, "etcd/0", "127.0.0.2", "127.0.0.1", "etcd-0"), ServerAndClient),
		KeyPEM:  memberKey,
	}
	root, err := IssueClient(ca, "root", ClientLifetime)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := IssueClient(other, "root", ClientLifetime)
	if err != nil {
		t.Fatal(err)
	}
	strangerKey := mustKey(t)
	strangerMember := KeyPair{
		CertPEM: mustSign(t, other, mustCSR(t, strangerKey, "etcd/9", "127.0.0.1"), ServerAndClient),
		KeyPEM:  strangerKey,
	}

	unitAddr, unitResults := tlsServer(t, "127.0.0.2:0", ca.CertPEM, member)
	localAddr, localResults := tlsServer(t, "127.0.0.1:0", ca.CertPEM, member)
	// 127.0.0.3 is not among the member's SANs.
	wrongAddr, wrongResults := tlsServer(t, "127.0.0.3:0", ca.CertPEM, member)
	strangerAddr, strangerResults := tlsServer(t, "127.0.0.1:0", other.CertPEM, strangerMember)

	t.Run("unit IP SAN", func(t *testing.T) {
		if err := dial(t, unitAddr, "127.0.0.2", ca.CertPEM, root); err != nil {
			t.Fatalf("client: %v", err)
		}
		if err := recv(t, unitResults); err != nil {
			t.Fatalf("server: %v", err)
		}
	})
	t.Run("loopback SAN", func(t *testing.T) {
		if err := dial(t, localAddr, "127.0.0.1", ca.CertPEM, root); err != nil {
			t.Fatalf("client: %v", err)
		}
		if err := recv(t, localResults); err != nil {
			t.Fatalf("server: %v", err)
		}
	})
	t.Run("peer presents member cert as client", func(t *testing.T) {
		if err := dial(t, localAddr, "127.0.0.1", ca.CertPEM, member); err != nil {
			t.Fatalf("client: %v", err)
		}
		if err := recv(t, localResults); err != nil {
			t.Fatalf("server: %v", err)
		}
	})
	t.Run("address not in SANs", func(t *testing.T) {
		err := dial(t, wrongAddr, "127.0.0.3", ca.CertPEM, root)
		if err == nil || !strings.Contains(err.Error(), "127.0.0.3") {
			t.Fatalf("client error = %v, want a SAN mismatch for 127.0.0.3", err)
		}
		_ = recv(t, wrongResults)
	})
	t.Run("client cert from another CA", func(t *testing.T) {
		if err := dial(t, localAddr, "127.0.0.1", ca.CertPEM, stranger); err == nil {
			t.Fatal("client: connection with a foreign client cert succeeded")
		}
		if err := recv(t, localResults); err == nil || !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("server error = %v, want unknown authority", err)
		}
	})
	t.Run("no client cert", func(t *testing.T) {
		if err := dial(t, localAddr, "127.0.0.1", ca.CertPEM, KeyPair{}); err == nil {
			t.Fatal("client: connection without a client cert succeeded")
		}
		if err := recv(t, localResults); err == nil {
			t.Fatal("server accepted a connection without a client cert")
		}
	})
	t.Run("server cert from another CA", func(t *testing.T) {
		err := dial(t, strangerAddr, "127.0.0.1", ca.CertPEM, root)
		if err == nil || !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("client error = %v, want unknown authority", err)
		}
		_ = recv(t, strangerResults)
	})
}
