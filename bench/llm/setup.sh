# Shared start of the bench/llm scripts, sourced after `set -euo pipefail` with the script's arguments:
# OUT_DIR [MODEL ...]. Sets $out (created, with the KJV split in $out/kjv), $models (default: gpt2-kjv llama-gqa-kjv)
# and $cli (the built command), from the repository root.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${1:?usage: $(basename "$0") OUT_DIR [MODEL ...]}
shift
models=("${@:-gpt2-kjv llama-gqa-kjv}")
read -ra models <<<"${models[*]}"
mkdir -p "$out"
bash bench/llm/kjv_split.sh "$out/kjv" >/dev/null
dotnet build -c Release src/PruneSharp.Cli -v q -nologo | grep -E " error " || true
cli=src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli
