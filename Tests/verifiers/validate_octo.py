#!/usr/bin/env python3
"""Validates recorded OCTO exchanges: `validate_octo.py RECORDS.json`. RECORDS is a list of
{"operation": "GET /bookings/{uuid}", "status": 200, "schema": "booking", "body": ...}. Each body (each item of an
array body) is validated against the project's own schema schemas/octo/<schema>.schema.json; then, when the OCTO
specification's OpenAPI document is at hand ($PARKFED_OCTO_SPEC, else ../shared/octo/octo-openapi-1.0.yml beside
the checkout), against the response schema the specification itself gives that operation and status. Prints one
line per check and exits 1 on any failure."""
import json, os, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
schemas = {}
registry = Registry()
for name in os.listdir(os.path.join(root, "schemas", "octo")):
    with open(os.path.join(root, "schemas", "octo", name)) as f:
        doc = json.load(f)
    schemas[name.replace(".schema.json", "")] = doc
    registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))

records = json.load(open(sys.argv[1]))
failures = 0
for number, record in enumerate(records):
    schema = schemas[record["schema"]]
    items = record["body"] if isinstance(record["body"], list) and record["schema"] != "list" else [record["body"]]
    for item in items:
        errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(item), key=lambda e: list(e.path))
        for error in errors[:3]:
            failures += 1
            print(f"FAIL own {record['operation']} #{number}: {list(error.path)}: {error.message[:300]}")
print(f"own schemas: {len(records)} records checked")

spec_path = os.environ.get("PARKFED_OCTO_SPEC") or os.path.join(os.path.dirname(root), "shared", "octo", "octo-openapi-1.0.yml")
if os.path.exists(spec_path):
    import yaml
    spec = yaml.safe_load(open(spec_path))

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node and node["$ref"].startswith("#/"):
                target = spec
                for part in node["$ref"][2:].split("/"):
                    target = target[part]
                return resolve(target)
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    checked = 0
    for number, record in enumerate(records):
        method, path = record["operation"].split(" ", 1)
        operation = spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue  # a route of the federation's own (GET /webhooks), not in OCTO
        response = operation["responses"].get(str(record["status"]))
        if response is None:
            # A status the operation does not list (401 for a bad key, 400 where only 200 is listed): OCTO's error body,
            # as the specification's error responses give it (its product error for the product routes).
            if record["status"] < 400:
                print(f"FAIL spec {record['operation']} #{number}: the specification has no {record['status']} response")
                failures += 1
                continue
            name = "GetProductError" if path.startswith("/products") else "GetSupplierError"
            response = spec["components"]["responses"][name]
        schema = resolve(response["content"]["application/json"]["schema"])
        errors = list(Draft202012Validator(schema).iter_errors(record["body"]))
        for error in errors[:3]:
            failures += 1
            print(f"FAIL spec {record['operation']} #{number}: {list(error.path)}: {error.message[:300]}")
        checked += 1
    print(f"OCTO specification {spec_path}: {checked} records checked")
else:
    print("OCTO specification not found: checked against the project's own schemas only")
sys.exit(1 if failures else 0)
