#!/usr/bin/env bash
# Provisions Godot 4 into a private folder on a Debian-family machine that has no Godot 4,
# without touching the system: Debian's `sid` suite packages Godot 4 (Debian 12 only has 3).
# Usage: provision_godot.sh DEST   → DEST/godot, a symlink to a Godot binary that starts directly.
#
# sid's Godot needs a newer glibc than the machine's, so it must run with sid's own dynamic loader
# and libraries, which are unpacked under DEST/root. Instead of a wrapper script that calls the
# loader (then the running Godot's executable is the loader, and the editor's Play, the project
# manager and `OS.execute(OS.get_executable_path(), ...)` all break), the binary itself is patched
# with `patchelf`: its interpreter becomes DEST/root's loader and its RPATH DEST/root's library
# folder (an RPATH, not a RUNPATH, so it also applies to the libraries it loads and dlopens).
# Both are absolute paths: after DEST moves, run this again; it re-patches without downloading.
# The machine's own apt source (its mirror) is reused; no host name is hard-coded here.
set -euo pipefail
dest=${1:?usage: provision_godot.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd -P)
work="$dest/apt"
root="$dest/root"
lib="$root/usr/lib/x86_64-linux-gnu"

fetch_godot() {
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$root"
  : > "$work/status"
  # The machine's mirror: the first `URIs:` of a deb822 source, else the first `deb` line.
  local uri="" f
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
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg signed=""
  [ -f "$keyring" ] && signed="[signed-by=$keyring]"
  echo "deb $signed $uri sid main" > "$work/sources.list"

  local apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- \
    -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=$work/status" \
    -o "Dir::Cache=$work/cache" -o APT::Install-Recommends=false -o Debug::NoLocking=1 \
    -o APT::Sandbox::User=root -q)
  echo "provision_godot: fetching Godot 4 from Debian sid into $dest" >&2
  apt-get "${apt_opts[@]}" update >&2
  apt-get "${apt_opts[@]}" -y install --download-only godot patchelf >&2
  local deb
  for deb in "$work"/cache/archives/*.deb; do
    dpkg -x "$deb" "$root"
  done
  rm -rf "$work/cache/archives"/*.deb "$work/lists"
}

# `patchelf`: the one unpacked with Godot (run by sid's loader, like Godot), else the machine's,
# else installed with the machine's apt (an older cache has none unpacked).
patchelf_cmd=()
find_patchelf() {
  if [ -x "$root/usr/bin/patchelf" ]; then
    patchelf_cmd=("$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$root/usr/bin/patchelf")
    return
  fi
  if ! command -v patchelf >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "provision_godot: installing patchelf (apt-get)" >&2
    apt-get install -y -q patchelf >&2 || { apt-get update -q >&2 && apt-get install -y -q patchelf >&2; }
  fi
  command -v patchelf >/dev/null || {
    echo "provision_godot: needs \`patchelf\`: install it (sudo apt-get install patchelf), or delete $dest and run again" >&2
    exit 1
  }
  patchelf_cmd=(patchelf)
}

# A Godot unpacked by an earlier run (also one that made the old loader-wrapper script) is reused.
if [ ! -e "$root/usr/bin/godot" ]; then
  fetch_godot
fi
find_patchelf
bin=$(readlink -f "$root/usr/bin/godot")
"${patchelf_cmd[@]}" --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$bin"
# Libraries whose RUNPATH names the system's library folder (libpulse: `.../pulseaudio`) would
# look there, not here: point them at their own folder instead.
for so in "$lib"/*.so*; do
  [ -f "$so" ] && [ ! -L "$so" ] || continue
  runpath=$("${patchelf_cmd[@]}" --print-rpath "$so" 2>/dev/null) || continue
  case "$runpath" in
    /usr/lib/x86_64-linux-gnu* | *:/usr/lib/x86_64-linux-gnu*)
      "${patchelf_cmd[@]}" --set-rpath "${runpath//\/usr\/lib\/x86_64-linux-gnu/\$ORIGIN}" "$so" ;;
  esac
done
rm -f "$dest/godot"
ln -s "${bin#"$dest"/}" "$dest/godot"
"$dest/godot" --headless --version >&2
