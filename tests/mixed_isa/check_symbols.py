#!/usr/bin/env python3
"""Fails if two object files both define a facepost inline function with different machine code.

The linker keeps one copy of each inline (weak) function. If a portable object and an AVX-512
object both emit facepost::X with different code, the program may run the AVX-512 copy from the
portable part. facepost's instruction-set namespaces (include/facepost/isa.hpp) exist so that no
facepost symbol is ever emitted by both with different code.

usage: check_symbols.py A.o B.o
"""
import re
import subprocess
import sys


def weak_functions(obj):
    out = subprocess.run(["nm", "--defined-only", obj], check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] == "W" and "8facepost" in parts[2]:
            names.add(parts[2])
    return names


def is_facepost_own(mangled):
    """A function of namespace facepost (not a std template instantiated over a facepost type)."""
    return re.match(r"_ZN(K|V|R|O)*8facepost", mangled) is not None


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def code(obj):
    """Function symbol -> its instruction bytes (addresses left out)."""
    out = subprocess.run(["objdump", "-d", "-w", obj], check=True, capture_output=True, text=True).stdout
    funcs, current = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            current = m.group(1)
            funcs.setdefault(current, [])
            continue
        m = re.match(r"^\s*[0-9a-f]+:\t([0-9a-f ]+)\t", line)
        if m and current is not None:
            funcs[current].append(m.group(1).strip())
    return funcs


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    a, b = sys.argv[1], sys.argv[2]
    shared = weak_functions(a) & weak_functions(b)
    code_a, code_b = code(a), code(b)
    differing = sorted(n for n in shared if code_a.get(n) != code_b.get(n))
    # facepost's own functions must never differ. Standard-library templates instantiated over
    # facepost's shared data types (std::vector<facepost::AnchorLevel> copies) are the standard
    # library's code, shared by every translation unit that copies such a type: listed, not failed.
    own = [n for n in differing if is_facepost_own(n)]
    print(f"{len(shared)} inline functions naming facepost defined in both objects; with different code: "
          f"{len(own)} of facepost's own, {len(differing) - len(own)} standard-library instantiations")
    for name in demangle(own[:50]):
        print("  facepost function differs:", name)
    for name in demangle([n for n in differing if n not in own][:10]):
        print("  (standard library, not failed):", name[:200])
    return 1 if own else 0


if __name__ == "__main__":
    sys.exit(main())
