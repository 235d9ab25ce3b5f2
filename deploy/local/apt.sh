# Sourced by the scripts of deploy/local (and the Makefile's chromium target): installs Debian
# packages, as root or through sudo, updating the package lists once when an install fails.
# Messages go to stderr.

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		echo "need root to run: $*" >&2; return 1; fi
}

# apt_install PACKAGE...
apt_install() {
	echo "installing $* from Debian's packages" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 || {
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
	}
}
