#!/usr/bin/env python3
"""Independent check that schemas/openapi.yaml is a valid OpenAPI 3.1 document whose $refs resolve.

Usage: validate_openapi.py PATH_TO_OPENAPI_YAML
"""
import os
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


def main(path):
    spec, _ = read_from_filename(path)
    validate(spec, base_uri="file://" + os.path.abspath(path))
    paths = sorted(spec["paths"])
    print("openapi ok:", " ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
