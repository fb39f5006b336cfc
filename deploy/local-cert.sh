#!/bin/sh
# Make a certificate for a trial of Nuanxin over HTTPS on a local network (docs/deployment.md).
#
#   deploy/local-cert.sh DIR NAME_OR_IP...     e.g. deploy/local-cert.sh data/tls 192.168.1.20 localhost
#
# Writes DIR/ca.pem (a small certificate authority of your own: install it on the phones, once),
# DIR/cert.pem and DIR/key.pem (for `nuanxin serve --tls-cert DIR/cert.pem --tls-key DIR/key.pem`).
# Phones accept a service worker only from a certificate they trust, hence the authority.
# Needs only `openssl`. For a server with a public name use Caddy or nginx with a real certificate.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NAME_OR_IP... (the addresses phones will type, e.g. 192.168.1.20)" >&2
  exit 2
fi
dir=$1
shift
mkdir -p "$dir"
names=""
for name in "$@"; do
  case $name in
    *:*) entry="IP:$name" ;;  # IPv6
    *[!0-9.]*) entry="DNS:$name" ;;
    *) entry="IP:$name" ;;
  esac
  names="${names:+$names,}$entry"
done
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 -subj "/CN=Nuanxin local CA" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$1" -keyout "$dir/key.pem" -out "$dir/cert.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
  "$names" >"$dir/cert.ext"
# 825 days: the longest validity iPhones accept for a server certificate.
openssl x509 -req -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
  -days 825 -sha256 -extfile "$dir/cert.ext" -out "$dir/cert.pem" 2>/dev/null
rm -f "$dir/cert.csr" "$dir/cert.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.pem" "$dir/cert.pem"
echo "made $dir/cert.pem for $names; install $dir/ca.pem on each phone (docs/deployment.md)"
