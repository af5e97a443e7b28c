package sidecar

// Custom certificates of a Traefik boot request: each certificate and key
// is written under the dynamic directory (the key with mode 0600, in a
// directory of mode 0700), and one dynamic file lists them for Traefik's
// file provider, which serves them by SNI. Nothing else holds the key: the
// boot request is neither journaled nor audited beyond its image.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

// Where custom certificates live, relative to the dynamic directory.
const (
	// certsSubdir holds the PEM files. Traefik's file provider reads the
	// YAML of subdirectories but ignores other files in them.
	certsSubdir = "certs"
	// certsFile is the dynamic file of tls.certificates, written as JSON
	// (which is YAML: Traefik reads .yml, .yaml and .toml only).
	certsFile = "tls-certificates.yml"
)

// writeCertificates makes the dynamic directory serve exactly certs:
// files first, then the list that names them (so Traefik never reads a
// name before its file), then the files no longer listed are removed.
func writeCertificates(dynamicDir string, certs []contract.Certificate) error {
	dir := filepath.Join(dynamicDir, certsSubdir)
	list := filepath.Join(dynamicDir, certsFile)
	if len(certs) == 0 {
		if err := atomicfile.Remove(list); err != nil {
			return fmt.Errorf("remove tls certificates: %w", err)
		}
		return pruneCertFiles(dir, nil)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create certificates dir: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("create certificates dir: %w", err)
	}
	type entry struct {
		CertFile string `json:"certFile"`
		KeyFile  string `json:"keyFile"`
	}
	var entries []entry
	keep := map[string]bool{}
	for _, c := range certs {
		id := certID(c)
		crt, key := id+".crt", id+".key"
		if err := atomicfile.WriteFileStaged(filepath.Join(dir, crt), traefik.StagingDir(dynamicDir), []byte(c.CertificatePEM), 0o644); err != nil {
			return fmt.Errorf("write certificate: %w", err)
		}
		if err := atomicfile.WriteFileStaged(filepath.Join(dir, key), traefik.StagingDir(dynamicDir), []byte(c.PrivateKeyPEM), 0o600); err != nil {
			// The error names the file, never its content.
			return fmt.Errorf("write certificate key: %w", err)
		}
		keep[crt], keep[key] = true, true
		in := traefik.DynamicDirInContainer + "/" + certsSubdir + "/"
		entries = append(entries, entry{CertFile: in + crt, KeyFile: in + key})
	}
	doc := map[string]any{"tls": map[string]any{"certificates": entries}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode tls certificates: %w", err)
	}
	if err := atomicfile.WriteFileStaged(list, traefik.StagingDir(dynamicDir), b, 0o644); err != nil {
		return fmt.Errorf("write tls certificates: %w", err)
	}
	return pruneCertFiles(dir, keep)
}

// pruneCertFiles removes the files of dir that keep does not hold.
func pruneCertFiles(dir string, keep map[string]bool) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read certificates dir: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() || keep[e.Name()] {
			continue
		}
		if err := atomicfile.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove old certificate file: %w", err)
		}
	}
	return nil
}

// certID names a certificate's files by a hash of both PEM texts, so a
// renewed certificate gets new names and a changed list file, which is
// what makes Traefik's watcher reload it. The hash is of public and secret
// data together and truncated: it identifies, it does not reveal.
func certID(c contract.Certificate) string {
	h := sha256.New()
	h.Write([]byte(c.CertificatePEM))
	h.Write([]byte{0})
	h.Write([]byte(c.PrivateKeyPEM))
	return "cert-" + hex.EncodeToString(h.Sum(nil)[:8])
}
