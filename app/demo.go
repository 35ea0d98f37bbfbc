package app

import (
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"socketeer/bindings/selfsigned"
)

//go:embed demo
var demoFiles embed.FS

// The demo prefers fixed ports, so that its origin (and so its profile) stays the same from run to
// run; when they are taken it falls back to any free port.
const (
	demoSitePort = 47443
	demoEchoPort = 47007
)

// demoCSP is strict on purpose: the demo proves the API works on pages that allow nothing but
// themselves.
const demoCSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"

// demoName is the demo profile's name until the user renames it.
const demoName = "Socketeer demo"

// demoProfile returns the demo's profile for a site port, making it on first use: its certificate,
// made by this program for this profile, is pinned the same way a user pins an intranet device's
// (exactly this certificate, for exactly this host), and it gets the app's icon.
func demoProfile(port int) (*Profile, siteURL, selfsigned.Cert, error) {
	var cert selfsigned.Cert
	target, err := parseSiteURL("https://localhost:" + strconv.Itoa(port) + "/")
	if err != nil {
		return nil, target, cert, err
	}
	p, err := OpenProfile(target.Origin, target.URL)
	if err != nil {
		return nil, target, cert, err
	}
	if cert, err = demoCertificate(p); err != nil {
		return nil, target, cert, err
	}
	changed := p.AddPin(target.Host, fingerprint(cert.DER))
	if !p.Demo {
		p.Demo, p.Name, changed = true, demoName, true
		// AppIcon is set by the main package; tests of this package run without it.
		if len(AppIcon) > 0 {
			if err := p.setIcon(AppIcon); err != nil {
				return nil, target, cert, err
			}
		}
	}
	if changed {
		if err := p.Save(); err != nil {
			return nil, target, cert, err
		}
	}
	return p, target, cert, nil
}

// runDemo serves the socket console over HTTPS from loopback, starts a loopback echo service to try
// it on, and opens the console in its own site window. When the demo is open already, its window
// comes to the front instead.
func runDemo() error {
	p, target, cert, err := demoProfile(demoSitePort)
	if err != nil {
		return err
	}
	inst, err := claimProfile(p)
	if errors.Is(err, errAlreadyOpen) {
		return nil
	}
	if err != nil {
		return err
	}
	siteLn, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(demoSitePort))
	if err != nil {
		// Another program has the demo's port: the demo runs on a port of the moment instead, which
		// is another origin and so another profile.
		inst.Close()
		if siteLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("start the demo site: %w", err)
		}
		if p, target, cert, err = demoProfile(siteLn.Addr().(*net.TCPAddr).Port); err != nil {
			return err
		}
		if inst, err = claimProfile(p); err != nil {
			return err
		}
	}
	defer inst.Close()
	echoLn, err := listenPreferred(demoEchoPort)
	if err != nil {
		return fmt.Errorf("start the echo service: %w", err)
	}
	defer echoLn.Close()
	go serveEcho(echoLn)

	files, _ := fs.Sub(demoFiles, "demo")
	mux := http.NewServeMux()
	echoPort := echoLn.Addr().(*net.TCPAddr).Port
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"echoHost": "127.0.0.1", "echoPort": echoPort})
	})
	mux.Handle("GET /", http.FileServerFS(files))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", demoCSP)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			mux.ServeHTTP(w, r)
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert.TLS}},
		ReadHeaderTimeout: 10 * time.Second,
		// The first load fails its handshake on purpose (that is when the pin is applied).
		ErrorLog: slog.NewLogLogger(alog.Handler(), slog.LevelDebug),
	}
	go srv.ServeTLS(siteLn, "", "")
	defer srv.Close()
	alog.Info("demo ready", "site", target.URL, "echo", echoLn.Addr().String())
	return runSite(inst, p, target)
}

func listenPreferred(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err == nil {
		return ln, nil
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// demoCertificate loads the demo's certificate from its profile, making a new one when there is
// none yet or it is about to expire.
func demoCertificate(p *Profile) (selfsigned.Cert, error) {
	certPath := filepath.Join(p.ConfigDir(), "demo-cert.pem")
	keyPath := filepath.Join(p.ConfigDir(), "demo-key.pem")
	certPEM, err1 := os.ReadFile(certPath)
	keyPEM, err2 := os.ReadFile(keyPath)
	if err := errors.Join(err1, err2); err == nil {
		if c, err := selfsigned.Load(certPEM, keyPEM); err == nil {
			return c, nil
		}
	}
	c, err := selfsigned.New("Socketeer demo", []string{"localhost"}, 2*365*24*time.Hour)
	if err != nil {
		return c, fmt.Errorf("demo certificate: %w", err)
	}
	if err := writeFileAtomic(keyPath, c.KeyPEM); err != nil {
		return c, err
	}
	return c, writeFileAtomic(certPath, c.CertPEM)
}

// serveEcho is the demo's echo service: it sends back whatever it receives and finishes its side
// when the client finishes its own.
func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
		}()
	}
}
