"""The PyYAML peer of the post-render benchmark: load every document of standard input and dump
them all to standard output, with libyaml's C loader and dumper when PyYAML has them (it does
in target/peers/venv), the pure-Python ones otherwise. This is the least any Python
post-renderer that edits documents as data does."""
import sys

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
yaml.dump_all(yaml.load_all(sys.stdin, Loader=Loader), sys.stdout, Dumper=Dumper)
