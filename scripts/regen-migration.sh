#!/usr/bin/env bash
# Until the first release, the schema is one initial revision: regenerate it after a model
# change. After a release, add a new revision instead (attendance.migrate.revision).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f attendance/migrations/versions/0001_initial_schema.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from attendance.db import make_engine
from attendance import migrate
migrate.revision(make_engine(f"sqlite:///{sys.argv[1]}/gen.sqlite3"), "initial schema")
PY
f=$(ls attendance/migrations/versions/*_initial_schema.py | grep -v 0001_ | head -1)
rev=$(basename "$f" | cut -d_ -f1)
sed "s/$rev/0001/g" "$f" > attendance/migrations/versions/0001_initial_schema.py
rm -f "$f"
rm -rf "$tmp"
echo "regenerated attendance/migrations/versions/0001_initial_schema.py"
