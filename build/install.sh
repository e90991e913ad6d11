#!/usr/bin/env bash
# Installs `prunesharp` as a command: builds the CLI once (Release, ReadyToRun) and links its apphost into a folder on
# PATH (default ~/.local/bin; PREFIX=/usr/local/bin as root). Afterwards `prunesharp --help` answers without `dotnet run`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${PREFIX:-$HOME/.local/bin}
echo "install: building the prunesharp command (Release; about a minute the first time)..." >&2
log=$(mktemp)
if ! dotnet build src/PruneSharp.Cli -c Release -nologo -v q >"$log" 2>&1; then
  grep -E " error " "$log" | sort -u >&2 || cat "$log" >&2
  echo "install: the build failed" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
apphost="$PWD/src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli"
[ -x "$apphost" ] || { echo "install: the build did not produce $apphost" >&2; exit 1; }
mkdir -p "$target"
ln -sfn "$apphost" "$target/prunesharp"
echo "install: $target/prunesharp -> $apphost" >&2
case ":$PATH:" in *":$target:"*) ;; *) echo "install: add $target to PATH (e.g. export PATH=\"$target:\$PATH\")" >&2 ;; esac
