package contract

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCertificateNeverPrintsItsKey(t *testing.T) {
	c := Certificate{CertificatePEM: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
		PrivateKeyPEM: "-----BEGIN EC PRIVATE KEY-----\nS3CR3TAA\n-----END EC PRIVATE KEY-----\n"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%+v", TraefikRequest{Certificates: []Certificate{c}})} {
		if strings.Contains(s, "S3CR3T") {
			t.Errorf("formatted: %s", s)
		}
	}
	req := TraefikRequest{Image: "traefik", Certificates: []Certificate{c}}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.PrivateKeyPEM = "S3CR3T not pem"
	req.Certificates = []Certificate{bad}
	err := req.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "certificates[0].privateKeyPEM" || strings.Contains(err.Error(), "S3CR3T") {
		t.Errorf("Validate = %v, want a field error on the key that does not quote it", err)
	}
	wrong := c
	wrong.CertificatePEM = wrong.PrivateKeyPEM
	req.Certificates = []Certificate{wrong}
	if err := req.Validate(); !errors.As(err, &fe) || fe.Field != "certificates[0].certificatePEM" {
		t.Errorf("a key as certificate: Validate = %v", err)
	}
}
