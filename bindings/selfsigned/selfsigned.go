// Package selfsigned makes the self-signed certificates Socketeer serves itself: the bridge's
// ephemeral one and the built-in demo's. Nothing else in Socketeer trusts a certificate it did not
// verify or the user did not pin.
package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Cert is a certificate with its key, in both Go's form and PEM.
type Cert struct {
	TLS     tls.Certificate
	CertPEM []byte
	KeyPEM  []byte
	DER     []byte
}

// New makes an ECDSA P-256 certificate for the given DNS names and IP addresses, valid from an hour
// ago (for clock skew) for the given duration.
func New(commonName string, hosts []string, validFor time.Duration) (Cert, error) {
	now := time.Now()
	return issue(nil, commonName, hosts, now.Add(-time.Hour), now.Add(validFor))
}

// NewCA makes a certificate authority, valid from an hour ago for the given duration, whose Issue
// signs server certificates. Tests use it to stand in for a public CA that the system is made to
// trust (SSL_CERT_FILE); Socketeer itself never issues certificates from one.
func NewCA(commonName string, validFor time.Duration) (Cert, error) {
	now := time.Now()
	return issue(nil, commonName, nil, now.Add(-time.Hour), now.Add(validFor))
}

// Issue makes a server certificate signed by ca (made by NewCA) for the given DNS names and IP
// addresses, valid from notBefore to notAfter.
func (ca Cert) Issue(commonName string, hosts []string, notBefore, notAfter time.Time) (Cert, error) {
	if len(hosts) == 0 {
		return Cert{}, fmt.Errorf("a server certificate needs at least one host")
	}
	return issue(&ca, commonName, hosts, notBefore, notAfter)
}

// issue makes a certificate: a CA when hosts is empty, else a server certificate; self-signed when
// parent is nil.
func issue(parent *Cert, commonName string, hosts []string, notBefore, notAfter time.Time) (Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Cert{}, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(hosts) == 0 {
		tmpl.KeyUsage = x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
		tmpl.BasicConstraintsValid = true
		tmpl.IsCA = true
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		if signer, err = x509.ParseCertificate(parent.DER); err != nil {
			return Cert{}, fmt.Errorf("parse the issuer: %w", err)
		}
		signerKey = parent.TLS.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return Cert{}, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Cert{}, fmt.Errorf("encode key: %w", err)
	}
	c := Cert{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		DER:     der,
	}
	c.TLS, err = tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	return c, err
}

// Load reads a certificate and key saved from an earlier New.
func Load(certPEM, keyPEM []byte) (Cert, error) {
	tc, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return Cert{}, fmt.Errorf("load certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(tc.Certificate[0])
	if err != nil {
		return Cert{}, fmt.Errorf("parse certificate: %w", err)
	}
	if time.Now().After(leaf.NotAfter.Add(-24 * time.Hour)) {
		return Cert{}, fmt.Errorf("certificate expires on %s", leaf.NotAfter.Format(time.DateOnly))
	}
	return Cert{TLS: tc, CertPEM: certPEM, KeyPEM: keyPEM, DER: tc.Certificate[0]}, nil
}
