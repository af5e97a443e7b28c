#!/bin/bash
# Runs pebble-challtestsrv as a DNS server answering every A query with
# $PEBBLE_DNS_IPV4 (no AAAA), and Pebble using it, validating HTTP-01 on
# port 80 and TLS-ALPN-01 on 443 (the ports Traefik listens on). The ACME
# API is on :14000 and the management API (roots, intermediates) on :15000,
# both HTTPS with /etc/pebble/cert.pem and key.pem.
set -euo pipefail

: "${PEBBLE_DNS_IPV4:?set PEBBLE_DNS_IPV4 to the address host names resolve to}"
cat >/etc/pebble/config.json <<JSON
{
  "pebble": {
    "listenAddress": "0.0.0.0:14000",
    "managementListenAddress": "0.0.0.0:15000",
    "certificate": "/etc/pebble/cert.pem",
    "privateKey": "/etc/pebble/key.pem",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
JSON
pebble-challtestsrv -defaultIPv4 "$PEBBLE_DNS_IPV4" -defaultIPv6 "" \
	-dns01 127.0.0.1:8053 -http01 "" -https01 "" -tlsalpn01 "" -management 127.0.0.1:8055 &
exec pebble -config /etc/pebble/config.json -dnsserver 127.0.0.1:8053
