#!/usr/bin/env bash
# Provisions Godot 4 into a private folder on a Debian-family machine that has no Godot 4,
# without touching the system: Debian's `sid` suite packages Godot 4 (Debian 12 only has 3).
# Usage: provision_godot.sh DEST   → writes DEST/godot, a wrapper that runs like a plain binary.
# The machine's own apt source (its mirror) is reused; no host name is hard-coded here.
set -euo pipefail
dest=${1:?usage: provision_godot.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work="$dest/apt"
root="$dest/root"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$root"
: > "$work/status"

# The machine's mirror: the first `URIs:` of a deb822 source, else the first `deb` line.
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
  [ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
if [ -z "$uri" ]; then
  echo "provision_godot: no apt source found on this machine; install Godot 4 yourself and set GODOT=/path/to/godot" >&2
  exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[ -f "$keyring" ] && signed="[signed-by=$keyring]"
echo "deb $signed $uri sid main" > "$work/sources.list"

apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- \
  -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=$work/status" \
  -o "Dir::Cache=$work/cache" -o APT::Install-Recommends=false -o Debug::NoLocking=1 \
  -o APT::Sandbox::User=root -q)
echo "provision_godot: fetching Godot 4 from Debian sid into $dest" >&2
apt-get "${apt_opts[@]}" update >&2
apt-get "${apt_opts[@]}" -y install --download-only godot >&2
for deb in "$work"/cache/archives/*.deb; do
  dpkg -x "$deb" "$root"
done
lib="$root/usr/lib/x86_64-linux-gnu"
cat > "$dest/godot" <<WRAP
#!/bin/sh
# Runs the privately provisioned Godot 4 through its own dynamic loader (it needs a newer glibc).
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib:$lib/pulseaudio" "$root/usr/bin/godot" "\$@"
WRAP
chmod +x "$dest/godot"
rm -rf "$work/cache/archives"/*.deb "$work/lists"
"$dest/godot" --version >&2
