package transport

// In-memory private keys (Kamal's ssh.key_data, usually a secret holding
// the key a CI job deploys with).

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// parseKeyData parses the i-th in-memory key. Its error names the key by
// position only: the text may be the key itself.
func parseKeyData(i int, data []byte) (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, nil
	case errors.As(err, &missing):
		return nil, fmt.Errorf("ssh.key_data[%d] is passphrase-protected: add it to ssh-agent", i)
	}
	return nil, fmt.Errorf("ssh.key_data[%d] is not a private key", i)
}
