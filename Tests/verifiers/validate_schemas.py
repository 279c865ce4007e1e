#!/usr/bin/env python3
"""Independent check of our JSON against the schema files in schemas/ (Draft 2020-12, formats checked).

Usage: validate_schemas.py SCHEMA=INSTANCE [SCHEMA=INSTANCE ...]
Prints one line per pair and exits 1 if any instance does not validate.
"""
import json
import os
import sys

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource


def registry_for(schema_path):
    """A schema may refer to a sibling file by name (`"$ref": "bank-account.schema.json"`): those are read from the
    schema's own directory, whatever base URI its `$id` gives the name."""
    directory = os.path.dirname(os.path.abspath(schema_path))

    def retrieve(uri):
        name = uri.replace(":", "/").rsplit("/", 1)[-1]
        path = os.path.join(directory, name)
        if not name.endswith(".schema.json") or not os.path.exists(path):
            raise NoSuchResource(ref=uri)
        with open(path) as f:
            return Resource.from_contents(json.load(f))

    return Registry(retrieve=retrieve)


def main(pairs):
    failed = 0
    for pair in pairs:
        schema_path, instance_path = pair.split("=", 1)
        with open(schema_path) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        with open(instance_path) as f:
            instance = json.load(f)
        errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker(), registry=registry_for(schema_path)).iter_errors(instance), key=str)
        if errors:
            failed += 1
            for error in errors:
                print(f"INVALID {instance_path} against {schema_path}: {'/'.join(map(str, error.path))}: {error.message}")
        else:
            print(f"valid {instance_path} against {schema_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
