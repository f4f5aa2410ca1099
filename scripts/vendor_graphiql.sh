#!/usr/bin/env bash
# Refresh the vendored GraphiQL (services/graph/prism_graph/graphiql/static/): its UMD build and
# CSS, and the React 18 UMD builds it runs on, from the npm registry, with their licences.
# The trailing sourceMappingURL comments are dropped (the maps are not vendored), nothing else
# is changed. Usage: scripts/vendor_graphiql.sh [GRAPHIQL_VERSION] [REACT_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHIQL="${1:-3.8.3}"
REACT="${2:-18.3.1}"
DEST=services/graph/prism_graph/graphiql/static
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for name in graphiql react react-dom; do
  mkdir -p "$work/$name" && tar xzf "$work"/"$name"-[0-9]*.tgz -C "$work/$name"
done
strip_map() { sed '/^\/[/*]# sourceMappingURL=/d' "$1" > "$2"; }
strip_map "$work/graphiql/package/graphiql.min.js" "$DEST/graphiql.min.js"
strip_map "$work/graphiql/package/graphiql.min.css" "$DEST/graphiql.min.css"
strip_map "$work/react/package/umd/react.production.min.js" "$DEST/react.production.min.js"
strip_map "$work/react-dom/package/umd/react-dom.production.min.js" "$DEST/react-dom.production.min.js"
cp "$work/graphiql/package/LICENSE" "$DEST/LICENSE.graphiql"
cp "$work/react/package/LICENSE" "$DEST/LICENSE.react"
cp "$work/react-dom/package/LICENSE" "$DEST/LICENSE.react-dom"
sed -i "s/^graphiql@.* react@.* react-dom@.*$/graphiql@$GRAPHIQL react@$REACT react-dom@$REACT/" \
  "$DEST/README.md"
echo "vendored graphiql@$GRAPHIQL, react@$REACT and react-dom@$REACT into $DEST"
