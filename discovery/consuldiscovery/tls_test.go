package consuldiscovery_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
	"github.com/microos/go-os/internal/testenv"
)

// writeCA writes a CA and a server certificate for 127.0.0.1 signed by it,
// as PEM files in dir.
func writeCA(t *testing.T, dir, prefix string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: prefix + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "server.dc1.consul"},
		DNSNames: []string{"server.dc1.consul", "localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		path := filepath.Join(dir, prefix+name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", keyDER)
}

// TestTLS runs an agent serving HTTPS: the URL's tls and ca_file options
// reach it; a client that does not trust its CA gets ErrUnavailable.
func TestTLS(t *testing.T) {
	testenv.Consul(t) // the real-backend tests run together
	dir := t.TempDir()
	caFile, certFile, keyFile := writeCA(t, dir, "")
	otherCA, _, _ := writeCA(t, dir, "other-")
	a := newAgent(t)
	httpsPort := port(t)
	a.extra = []string{"-https-port", httpsPort, "-hcl",
		`tls { defaults { ca_file = "` + caFile + `" cert_file = "` + certFile + `" key_file = "` + keyFile + `" verify_incoming = false } }`}
	a.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	https := "consul://127.0.0.1:" + httpsPort
	r, err := discovery.Open(ctx, https+"?tls=1&ca_file="+caFile)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	name := discoverytest.Name(t)
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{{ID: name + "-1", Address: "10.0.0.1", Port: 80}}}
	if err := r.Register(ctx, svc); err != nil {
		t.Fatalf("Register over TLS: %v", err)
	}
	if got, err := r.GetService(ctx, name); err != nil || len(got) != 1 {
		t.Fatalf("GetService over TLS = %v, %v", got, err)
	}

	untrusting, err := discovery.Open(ctx, https+"?tls=1&ca_file="+otherCA)
	if err != nil {
		t.Fatal(err)
	}
	defer untrusting.Close()
	if _, err := untrusting.GetService(ctx, name); !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("GetService trusting another CA = %v, want ErrUnavailable", err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := untrusting.GetService(ctx, name); !errors.As(err, &unknown) {
		t.Fatalf("the certificate error is not reachable with errors.As: %v", err)
	}
}
