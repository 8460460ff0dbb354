// Package ldaptest runs a real OpenLDAP server (slapd) for tests: it writes a slapd.conf
// with an mdb database into a temporary directory, loads entries with slapadd, starts
// slapd on a free loopback port, waits until it answers, and stops it when the test ends.
// With Options.TLS it also generates a certificate authority and a server certificate
// with crypto/x509, so that StartTLS and LDAPS can be tested with verification on.
//
// When slapd is not installed (Debian packages slapd and ldap-utils), Start skips the test
// with a message saying so, except when the environment variable CI is "true": then the
// test fails, so that a CI run never passes by skipping.
//
// Package ldaptest is for tests only; it imports the standard library only.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Default values of the directory a Server holds.
const (
	DefaultSuffix    = "dc=example,dc=test"
	RootPassword     = "root-secret"
	DefaultSizeLimit = 500
)

// DefaultSchemas are the schemas a server loads when Options.Schemas is empty.
var DefaultSchemas = []string{"core", "cosine", "inetorgperson", "nis"}

// Options describe the server to start.
type Options struct {
	// Suffix is the base DN of the database (default dc=example,dc=test). Its entry is
	// created unless LDIF holds it.
	Suffix string
	// LDIF holds entries loaded with slapadd before the server starts.
	LDIF string
	// Schemas names the schema files of /etc/ldap/schema to load, without ".schema"
	// (default core, cosine, inetorgperson and nis, as a stock OpenLDAP has). Add msuser
	// for Active Directory's user and group classes and attributes.
	Schemas []string
	// TLS generates a CA and a server certificate for 127.0.0.1 and localhost, enables
	// StartTLS on the ldap:// port and opens an ldaps:// port.
	TLS bool
	// SizeLimit is the most entries the server returns for a search without paging
	// (default 500, slapd's own default); paged searches may return any number.
	SizeLimit int
}

// Server is a running slapd.
type Server struct {
	URL          string // ldap://127.0.0.1:port
	LDAPSURL     string // ldaps://127.0.0.1:port, with Options.TLS only
	Suffix       string
	RootDN       string // cn=admin,<suffix>; its password is RootPassword
	RootPassword string
	CACertFile   string // PEM file of the CA that signed the server certificate, with TLS only
	Dir          string // the server's temporary directory
}

// Binary returns the path of slapd, or skips (or, under CI=true, fails) the test when
// slapd, slapadd or the OpenLDAP schema files are missing.
func Binary(t testing.TB) string {
	t.Helper()
	slapd, missing := find()
	if missing == "" {
		return slapd
	}
	msg, fail := verdict(missing, os.Getenv("CI"))
	if fail {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// find returns the path of slapd, or what is missing to run it.
func find() (slapd, missing string) {
	slapd = findBinary("slapd")
	switch {
	case slapd == "":
		return "", "no slapd in PATH or /usr/sbin"
	case findBinary("slapadd") == "":
		return "", "no slapadd in PATH or /usr/sbin"
	}
	if _, err := os.Stat(filepath.Join(schemaDir, "core.schema")); err != nil {
		return "", "no " + filepath.Join(schemaDir, "core.schema")
	}
	return slapd, ""
}

// verdict says what a test does when OpenLDAP is missing: skip, unless the CI
// environment variable is "true".
func verdict(missing, ci string) (msg string, fail bool) {
	msg = fmt.Sprintf("OpenLDAP is not installed (%s); install the Debian packages slapd and ldap-utils to run the LDAP tests", missing)
	if ci == "true" {
		return msg + "; CI=true, so this is a failure, not a skip", true
	}
	return msg, false
}

const (
	schemaDir = "/etc/ldap/schema"
	moduleDir = "/usr/lib/ldap"
)

func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/libexec"} {
		p := filepath.Join(dir, name)
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p
		}
	}
	return ""
}

// Start starts a slapd for the test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	slapd := Binary(t)
	if opts.Suffix == "" {
		opts.Suffix = DefaultSuffix
	}
	if opts.SizeLimit == 0 {
		opts.SizeLimit = DefaultSizeLimit
	}
	dir := t.TempDir()
	s := &Server{
		Suffix:       opts.Suffix,
		RootDN:       "cn=admin," + opts.Suffix,
		RootPassword: RootPassword,
		Dir:          dir,
	}
	var tlsConf string
	if opts.TLS {
		var err error
		if tlsConf, err = s.writeCertificates(); err != nil {
			t.Fatalf("generate certificates: %v", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(s.config(opts, tlsConf)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := withoutVersion(opts.LDIF)
	if !strings.Contains(strings.ToLower(data), "dn: "+strings.ToLower(opts.Suffix)+"\n") {
		data = suffixEntry(opts.Suffix) + "\n" + data
	}
	ldifFile := filepath.Join(dir, "data.ldif")
	if err := os.WriteFile(ldifFile, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(findBinary("slapadd"), "-q", "-f", conf, "-l", ldifFile).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if err := s.start(t, slapd, conf, opts.TLS); err != nil {
			lastErr = err
			continue
		}
		return s
	}
	t.Fatalf("start slapd: %v", lastErr)
	return nil
}

// start runs slapd on free ports and waits for it to accept connections.
func (s *Server) start(t testing.TB, slapd, conf string, withTLS bool) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	urls := s.URL + "/"
	if withTLS {
		tlsPort, err := freePort()
		if err != nil {
			return err
		}
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
		urls += " " + s.LDAPSURL + "/"
	}
	// -d keeps slapd in the foreground, so the test owns the process and its output.
	cmd := exec.Command(slapd, "-d", "0", "-f", conf, "-h", urls)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", slapd, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("slapd exited: %v\n%s", err, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "ldap://"), 200*time.Millisecond)
		if err == nil {
			c.Close()
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("slapd did not accept connections on %s within 15s\n%s", s.URL, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// config returns the slapd.conf of the server.
func (s *Server) config(opts Options, tlsConf string) string {
	var b strings.Builder
	schemas := opts.Schemas
	if len(schemas) == 0 {
		schemas = DefaultSchemas
	}
	for _, schema := range schemas {
		fmt.Fprintf(&b, "include %s\n", filepath.Join(schemaDir, schema+".schema"))
	}
	fmt.Fprintf(&b, "pidfile %s\n", filepath.Join(s.Dir, "slapd.pid"))
	fmt.Fprintf(&b, "argsfile %s\n", filepath.Join(s.Dir, "slapd.args"))
	if _, err := os.Stat(filepath.Join(moduleDir, "back_mdb.la")); err == nil {
		fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", moduleDir)
	}
	b.WriteString(tlsConf)
	// Non-paged searches stop at SizeLimit entries; paged searches are unlimited, as on
	// most production servers.
	fmt.Fprintf(&b, "sizelimit size.soft=%d size.hard=%d size.prtotal=unlimited\n", opts.SizeLimit, opts.SizeLimit)
	b.WriteString("database mdb\n")
	fmt.Fprintf(&b, "suffix %q\n", opts.Suffix)
	fmt.Fprintf(&b, "rootdn %q\n", s.RootDN)
	fmt.Fprintf(&b, "rootpw %s\n", s.RootPassword)
	fmt.Fprintf(&b, "directory %s\n", filepath.Join(s.Dir, "db"))
	b.WriteString("maxsize 104857600\n")
	b.WriteString("access to attrs=userPassword by self write by anonymous auth by * none\n")
	b.WriteString("access to * by * read\n")
	return b.String()
}

// withoutVersion drops the "version: 1" line LDIF files may start with, which slapadd
// does not accept.
func withoutVersion(ldif string) string {
	lines := strings.SplitAfter(ldif, "\n")
	for i, l := range lines {
		switch t := strings.TrimSpace(l); {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(strings.ToLower(t), "version:"):
			return strings.Join(append(lines[:i:i], lines[i+1:]...), "")
		}
		break
	}
	return ldif
}

// suffixEntry returns the entry of the database's suffix.
func suffixEntry(suffix string) string {
	first := strings.SplitN(suffix, ",", 2)[0]
	attr, value, _ := strings.Cut(first, "=")
	if strings.EqualFold(attr, "dc") {
		return fmt.Sprintf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: %s\ndc: %s\n", suffix, value, value)
	}
	return fmt.Sprintf("dn: %s\nobjectClass: organization\no: %s\n", suffix, value)
}

// writeCertificates writes a CA certificate, and a server certificate and key it signed,
// into the server's directory, and returns the slapd.conf lines that use them.
func (s *Server) writeCertificates() (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "scimsync ldaptest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	s.CACertFile = filepath.Join(s.Dir, "ca.pem")
	certFile, keyFile := filepath.Join(s.Dir, "server.pem"), filepath.Join(s.Dir, "server-key.pem")
	for _, f := range []struct {
		path, kind string
		der        []byte
	}{{s.CACertFile, "CERTIFICATE", caDER}, {certFile, "CERTIFICATE", der}, {keyFile, "PRIVATE KEY", keyDER}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der}), 0o600); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n",
		s.CACertFile, certFile, keyFile), nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
