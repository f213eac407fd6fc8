#!/usr/bin/env python3
"""Validates SARIF files against the official SARIF 2.1.0 JSON schema.

Usage: validate_sarif.py SCHEMA.json FILE.sarif...
The schema ships in the npm package @microsoft/jest-sarif (lib/schemas/sarif-2.1.0-rtm.5.json);
.ci/run fetches it with `npm pack`. Exits 1 naming the first violation of each file."""
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
bad = 0
for path in sys.argv[2:]:
    log = json.load(open(path))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(log), key=lambda e: list(e.path))
    if errors:
        bad += 1
        e = errors[0]
        print(f"{path}: {len(errors)} violations; first at /{'/'.join(map(str, e.path))}: {e.message}")
    else:
        print(f"{path}: valid SARIF 2.1.0 ({sum(len(r['results']) for r in log['runs'])} results)")
sys.exit(1 if bad else 0)
