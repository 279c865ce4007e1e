#!/usr/bin/env python3
"""Independent check of our JSON against the schema files in schemas/ (Draft 2020-12, formats checked).

Usage: validate_schemas.py SCHEMA=INSTANCE [SCHEMA=INSTANCE ...]
Prints one line per pair and exits 1 if any instance does not validate.
"""
import json
import sys

from jsonschema import Draft202012Validator, FormatChecker


def main(pairs):
    failed = 0
    for pair in pairs:
        schema_path, instance_path = pair.split("=", 1)
        with open(schema_path) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        with open(instance_path) as f:
            instance = json.load(f)
        errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(instance), key=str)
        if errors:
            failed += 1
            for error in errors:
                print(f"INVALID {instance_path} against {schema_path}: {'/'.join(map(str, error.path))}: {error.message}")
        else:
            print(f"valid {instance_path} against {schema_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
