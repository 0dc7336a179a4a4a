#!/usr/bin/env bash
# Runs every shell command of README.md, in order, as written, and fails at the first that fails: what a newcomer
# does on a fresh clone. Run from the repository root of such a clone (.ci/run does, on a copy with nothing beside it).
#  - `npm start` (with whatever settings precede it) starts the service in the background; the check waits for
#    /ready and measures the time to the first answer and to ready. A later `npm start` replaces the earlier one.
#  - `npm test` is left out when README_CHECK_SKIP_TESTS=1 (.ci/run has just run it).
#  - Placeholders the README cannot know (<org code>, <patient id>, …) are filled from the running demo county.
#  - Commands run in one bash session, so a variable a command sets (TOKEN=…) is there for the next ones.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=4000
SERVER_PID=
LOGDIR=$(mktemp -d)
NODE=node_modules/.bin/node

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    # npm start runs node as a child: stop the whole process group.
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap 'stop_server; drop_readme_databases 2>/dev/null || true; rm -rf "$LOGDIR"' EXIT

gql() { # query as the platform administrator → JSON
  curl -sf "http://127.0.0.1:$PORT/graphql" -H "authorization: Bearer $("$NODE" dist/src/cli/token.js --role PLATFORM_ADMIN 2>/dev/null)" \
    -H 'content-type: application/json' -d "{\"query\":\"$1\"}"
}
json() { "$NODE" -e "const d=JSON.parse(require('fs').readFileSync(0,'utf8')); const v=($1); if (v===undefined||v===null) process.exit(1); console.log(v)"; }

# The README's commands: lines of ```sh blocks, continuation lines joined.
mapfile -t COMMANDS < <("$NODE" -e '
  const md = require("fs").readFileSync("README.md", "utf8");
  const out = [];
  for (const m of md.matchAll(/^([ \t]*)```(?:sh|bash|shell)\n([\s\S]*?)^[ \t]*```/gm)) {
    let cmd = "";
    for (const line of m[2].split("\n").map((l) => l.slice(m[1].length))) {
      cmd += line.replace(/\\$/, "");
      if (line.endsWith("\\")) continue;
      if (cmd.trim() && !cmd.trim().startsWith("#")) out.push(cmd.trim());
      cmd = "";
    }
  }
  for (const c of out) console.log(c);
')
[ ${#COMMANDS[@]} -gt 5 ] || { echo "readme-check: found only ${#COMMANDS[@]} commands in README.md"; exit 1; }

# The PostgreSQL databases the README names are this check's own: dropped before (one left by an earlier run holds
# data encrypted with that run's keys, which this clone does not have) and after.
drop_readme_databases() {
  printf '%s\n' "${COMMANDS[@]}" | grep -oE 'postgresql://[^ ]+' | sort -u | while read -r url; do
    "$NODE" -e '
      const pg = require("pg"); const u = new URL(process.argv[1]); const db = u.pathname.slice(1); u.pathname = "/postgres";
      const c = new pg.Client({ connectionString: u.href });
      c.connect().then(() => c.query(`drop database if exists "${db.replace(/"/g, "")}" with (force)`)).then(() => c.end(), (e) => { console.error(`readme-check: cannot drop ${db}: ${e.message}`); process.exit(1); });
    ' "$url"
  done
}
drop_readme_databases

fill() { # placeholders → values from the running county
  local cmd=$1
  if [[ $cmd == *"<org code>"* ]]; then
    local code; code=$(gql '{ organizations(level: COUNTY) { code } }' | json 'd.data.organizations[0].code')
    cmd=${cmd//<org code>/$code}
  fi
  if [[ $cmd == *"<insurer code>"* || $cmd == *"<insurer id>"* ]]; then
    local insurers code id
    insurers=$(gql '{ organizations(level: EXTERNAL) { id code type } }')
    code=$(json 'd.data.organizations.find((o) => o.type === "INSURER").code' <<<"$insurers")
    id=$(json 'd.data.organizations.find((o) => o.type === "INSURER").id' <<<"$insurers")
    cmd=${cmd//<insurer code>/$code}
    cmd=${cmd//<insurer id>/$id}
  fi
  if [[ $cmd == *"<patient id>"* ]]; then
    local id; id=$(gql '{ patients(first: 1, filter: {conditionKind: HYPERTENSION}) { edges { node { id } } } }' | json 'd.data.patients.edges[0].node.id')
    cmd=${cmd//<patient id>/$id}
  fi
  printf '%s' "$cmd"
}

n=0
for raw in "${COMMANDS[@]}"; do
  n=$((n + 1))
  if [[ $raw == *"npm test"* && ${README_CHECK_SKIP_TESTS:-0} == 1 ]]; then
    echo "── [$n] $raw   (npm test: run by .ci/run just before; here only the install)"
    raw=${raw//&& npm test/}
  fi
  if [[ $raw == *"npm start"* ]]; then
    stop_server
    before=${raw%%npm start*}
    echo "── [$n] $raw   (in the background; waiting for /ready)"
    # What precedes `npm start` (npm install &&, VAR=value …) runs as written; the service runs in its own group.
    t0=$(date +%s.%N)
    set -m
    bash -c "$raw" >"$LOGDIR/server-$n.log" 2>&1 &
    SERVER_PID=$!
    set +m
    first=
    for _ in $(seq 1 1800); do
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "the service exited:"; tail -40 "$LOGDIR/server-$n.log"; exit 1; fi
      # the install (if any) comes first: time the start from when the build is done
      if [ -z "$first" ] && curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; then first=$(date +%s.%N); fi
      if curl -sf -o /dev/null "http://127.0.0.1:$PORT/ready"; then break; fi
      sleep 0.1
    done
    ready=$(date +%s.%N)
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/ready" || { echo "not ready after 180 s:"; tail -40 "$LOGDIR/server-$n.log"; exit 1; }
    printf '   first answer after %.1f s, ready after %.1f s (from the command, %s)\n' "$(echo "$first - $t0" | bc)" "$(echo "$ready - $t0" | bc)" \
      "$([ -n "$before" ] && echo "including: ${before% }" || echo "built checkout")"
    continue
  fi
  cmd=$(fill "$raw")
  echo "── [$n] $cmd"
  set +e
  eval "$cmd" >"$LOGDIR/out" 2>&1
  rc=$?
  set -e
  head -c 1500 "$LOGDIR/out"; echo
  if [ $rc -ne 0 ]; then echo "readme-check: command $n failed (exit $rc)"; exit 1; fi
  # A file the command wrote as NDJSON must be NDJSON: one JSON resource a line, nothing else.
  if [[ $cmd =~ --out\ ([^ ]+\.ndjson) ]]; then
    "$NODE" -e 'const ls=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n"); for (const l of ls) if (!JSON.parse(l).resourceType) throw new Error("not a resource: "+l.slice(0,80)); console.log(`   ${process.argv[1]}: ${ls.length} resources, valid NDJSON`)' "${BASH_REMATCH[1]}"
  fi
  # curl says 0 for any HTTP answer: an API error in the output is a failure too.
  if grep -qE '"errors":\[|"error":"|"severity":"(error|fatal)"' "$LOGDIR/out"; then echo "readme-check: command $n answered an error"; exit 1; fi
done
stop_server
echo "readme-check: all ${#COMMANDS[@]} README commands ran; the tree after them (data/ is ignored):"
git status --short
