#!/usr/bin/env bash
# The README's first command, checked: the built service starts on an in-memory embedded database, seeds a
# demo county, and answers a nested `patients` query over HTTP.
set -euo pipefail
PORT=${PORT:-4399}
# The Node 22 the project installs (MikroORM 7 and @medplum/core need it), not the machine's own.
NODE=${PROJECT_NODE:-node_modules/.bin/node}  # not $NODE: npm sets that to the Node running npm
LOG=$(mktemp)
export KEYS_DIR=$(mktemp -d)
EMBEDDED_IN_MEMORY=1 SEED_PATIENTS=${SEED_PATIENTS:-300} PORT=$PORT "$NODE" dist/src/main.js >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$LOG" "$KEYS_DIR"' EXIT
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null; then break; fi
  if ! kill -0 $PID 2>/dev/null; then echo "service exited:"; cat "$LOG"; exit 1; fi
  sleep 1
done
QUERY='{"query":"{ patients(first: 5, filter: {conditionKind: HYPERTENSION}) { totalCount edges { node { name conditions { kind } latestBloodPressure { systolic diastolic effectiveAt } } } } }"}'
# Without a token the API answers 401; with a development token (the same keys) it answers.
test "$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d "$QUERY" "http://127.0.0.1:$PORT/graphql")" = 401
TOKEN=$("$NODE" dist/src/cli/token.js --role PLATFORM_ADMIN)
BODY=$(curl -sf -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "$QUERY" "http://127.0.0.1:$PORT/graphql")
echo "$BODY" | head -c 600; echo
"$NODE" -e '
const body = JSON.parse(process.argv[1]);
if (body.errors) throw new Error(JSON.stringify(body.errors));
const c = body.data.patients;
if (c.totalCount < 1 || c.edges.length < 1) throw new Error("no hypertension patients in the demo county");
if (!c.edges.some((e) => e.node.latestBloodPressure && e.node.conditions.length)) throw new Error("no nested conditions / latest BP");
console.log("smoke: ok,", c.totalCount, "hypertension patients");
' "$BODY"
