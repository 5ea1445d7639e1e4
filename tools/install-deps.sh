#!/bin/sh
# Installs idgraph's build and test dependencies from Debian's packages.
# Idempotent: packages already present are left alone, and apt-get is not
# called at all when everything is installed.
set -eu
pkgs="liblmdb-dev libxxhash-dev libmsgpack-dev libsimdjson-dev libcriterion-dev
meson ninja-build pkg-config gcc g++ binutils python3 jq"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing:$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
