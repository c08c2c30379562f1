#!/usr/bin/env python3
"""gen_bindings.py (tests/metal/shim) - host bindings of a .metal file's kernels for the Metal shim.

Reads a .metal file, finds its non-template entry points `kernel void NAME(params)` (also
`[[kernel]] void NAME(...)`, in namespaces too) and writes one C++ translation unit that

  * includes facepost_msl/bindings.hpp, then the .metal file's text under `#line 1 "<file>"`
    (diagnostics point into the .metal file; its `#include <metal_stdlib>` is the shim's). The
    only change to the text: the attribute `[[threadgroup(i)]]` is spelled
    `[[facepost_msl_threadgroup(i)]]`, because `threadgroup` is an (empty) address-space macro
    that would otherwise expand inside the attribute;
  * defines, per kernel, an adapter that calls the kernel with its arguments built from a
    dispatch's bindings: a `[[buffer(i)]]` pointer gets the buffer's contents plus the bound
    offset, a `[[buffer(i)]]` reference (`constant Params& p`) the object there,
    `[[threadgroup(i)]]` the threadgroup memory of index i, a position attribute
    (thread_position_in_grid, ...) the thread's position as the parameter's type;
  * registers a facepost_msl::Library: the file's exact source text (the fake
    MTL::Device::newLibrary accepts only that text), the kernels and their parameter tables (the
    fake checks before a dispatch that every buffer and threadgroup index is bound, that a
    reference's buffer holds its type, and the alignment).

Every parameter needs exactly one attribute; an unsupported one (texture, sampler, stage_in,
...) or none is an error naming the kernel and the parameter.

usage: gen_bindings.py INPUT.metal OUTPUT.cpp [--name LIBRARY_NAME]
"""

import argparse
import os
import re
import sys

POSITION_ATTRIBUTES = [
    "thread_position_in_grid",
    "thread_position_in_threadgroup",
    "threadgroup_position_in_grid",
    "threads_per_threadgroup",
    "threadgroups_per_grid",
    "threads_per_grid",
    "thread_index_in_threadgroup",
    "thread_index_in_simdgroup",
    "simdgroup_index_in_threadgroup",
    "threads_per_simdgroup",
    "thread_execution_width",
    "simdgroups_per_threadgroup",
]


class BindingError(Exception):
    pass


def blank_comments_and_strings(text):
    """The text with comments, string and character literals and preprocessor lines replaced by
    spaces (newlines kept), so that offsets stay valid."""
    out = list(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # A preprocessor directive, with its continuation lines.
            j = i
            while j < n and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n and text[j + 1] == "\n":
                    j += 2
                    continue
                j += 1
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
            continue
        if c == "\n":
            line_start = True
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i, min(j + 1, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def matching_paren(text, open_index):
    depth = 0
    for i in range(open_index, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise BindingError("unbalanced parentheses after offset %d" % open_index)


def split_top_level(params):
    parts, depth, start = [], 0, 0
    for i, c in enumerate(params):
        if c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(params[start:i])
            start = i + 1
    parts.append(params[start:])
    return [p.strip() for p in parts if p.strip()]


def namespace_at(clean, offset):
    """The namespaces open at offset (a brace-depth scan of the cleaned text)."""
    stack = []  # (depth at which it opened, name or None for other braces)
    depth = 0
    pattern = re.compile(r"\bnamespace\s+([A-Za-z_][\w:]*)?\s*\{|\{|\}")
    for m in pattern.finditer(clean, 0, offset):
        tok = m.group(0)
        if tok.startswith("namespace"):
            depth += 1
            stack.append((depth, m.group(1) or ""))
        elif tok == "{":
            depth += 1
            stack.append((depth, None))
        else:
            if stack:
                stack.pop()
            depth -= 1
    names = [name for _, name in stack if name is not None]
    if "" in names:
        raise BindingError("a kernel in an anonymous namespace cannot be bound by name")
    if any(name is None for _, name in stack):
        raise BindingError("a kernel inside a class or function body")
    return names


def parse_param(kernel, text):
    attrs = re.findall(r"\[\[(.*?)\]\]", text)
    if len(attrs) != 1:
        raise BindingError("kernel %s: parameter '%s' needs exactly one attribute ([[buffer(i)]], "
                           "[[threadgroup(i)]] or a position attribute)" % (kernel, " ".join(text.split())))
    decl = " ".join(re.sub(r"\[\[.*?\]\]", " ", text).split())
    m = re.match(r"^(.*?)([A-Za-z_]\w*)$", decl)
    if not m or not m.group(1).strip():
        raise BindingError("kernel %s: cannot read the type and name of parameter '%s'" % (kernel, decl))
    ptype, name = m.group(1).strip(), m.group(2)
    attr = attrs[0].strip()
    am = re.match(r"^(\w+)\s*(?:\(\s*(\d+)\s*\))?$", attr)
    if not am:
        raise BindingError("kernel %s: parameter %s: unsupported attribute [[%s]]" % (kernel, name, attr))
    aname, index = am.group(1), am.group(2)
    if aname in ("buffer", "threadgroup"):
        if index is None:
            raise BindingError("kernel %s: parameter %s: [[%s]] needs an index" % (kernel, name, aname))
        index = int(index)
        limit = 31
        if index >= limit:
            raise BindingError("kernel %s: parameter %s: index %d is not below %d" % (kernel, name, index, limit))
        is_ref = ptype.endswith("&")
        if not is_ref and not ptype.endswith("*"):
            raise BindingError("kernel %s: parameter %s: a [[%s(i)]] parameter must be a pointer%s" %
                               (kernel, name, aname, " or a reference" if aname == "buffer" else ""))
        if aname == "threadgroup" and is_ref:
            raise BindingError("kernel %s: parameter %s: a [[threadgroup(i)]] parameter must be a pointer" %
                               (kernel, name))
        return {"kind": aname, "index": index, "type": ptype, "name": name, "attribute": None}
    if aname in POSITION_ATTRIBUTES and index is None:
        return {"kind": "position", "index": 0, "type": ptype, "name": name, "attribute": aname}
    raise BindingError("kernel %s: parameter %s: unsupported attribute [[%s]] (the shim binds [[buffer(i)]], "
                       "[[threadgroup(i)]] and %s)" % (kernel, name, attr, ", ".join(POSITION_ATTRIBUTES)))


def find_kernels(text):
    clean = blank_comments_and_strings(text)
    kernels = []
    for m in re.finditer(r"(\bkernel\b|\[\[\s*kernel\s*\]\])\s*void\s+([A-Za-z_]\w*)\s*\(", clean):
        before = clean[:m.start()].rstrip()
        if before.endswith(">"):
            continue  # template <...> kernel void ...: instantiated entry points are not bound
        name = m.group(2)
        open_paren = m.end() - 1
        close_paren = matching_paren(clean, open_paren)
        params = [parse_param(name, p) for p in split_top_level(clean[open_paren + 1:close_paren])]
        ns = namespace_at(clean, m.start())
        if any(k["name"] == name for k in kernels):
            raise BindingError("kernel %s is defined twice" % name)
        kernels.append({"name": name, "qualified": "::" + "::".join(ns + [name]), "params": params})
    return kernels


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(input_path, library_name, output_name="bindings.cpp"):
    with open(input_path, "r", encoding="utf-8") as f:
        text = f.read()
    kernels = find_kernels(text)
    if not kernels:
        raise BindingError("no kernel found in %s" % input_path)
    compiled = re.sub(r"\[\[(\s*)threadgroup(\s*)\(", r"[[\1facepost_msl_threadgroup\2(", text)
    ident = re.sub(r"\W", "_", library_name)
    out = []
    out.append("// Generated by tests/metal/shim/gen_bindings.py from %s: do not edit." % os.path.basename(input_path))
    out.append("// The .metal file's text follows (under #line), then the adapters of its kernels.")
    out.append('#include "facepost_msl/bindings.hpp"  // first: every std header before the MSL macros')
    out.append('#line 1 %s' % c_string(os.path.abspath(input_path)))
    out.append(compiled if compiled.endswith("\n") else compiled + "\n")
    out.append("@@LINE@@")
    out.append("// ---- generated bindings ----")
    out.append("namespace facepost_msl_generated_%s {" % ident)
    data = text.encode("utf-8")
    out.append("// The exact source text (what MTL::Device::newLibrary must be given).")
    out.append("const char source_text[] = {")
    for i in range(0, len(data), 24):
        out.append("  " + ", ".join("%d" % b for b in data[i:i + 24]) + ",")
    out.append("  0};")
    for k in kernels:
        args = []
        for p in k["params"]:
            if p["kind"] == "buffer":
                args.append("::facepost_msl::buffer_arg<%s>(inv, %d)" % (p["type"], p["index"]))
            elif p["kind"] == "threadgroup":
                args.append("::facepost_msl::threadgroup_arg<%s>(inv, %d)" % (p["type"], p["index"]))
            else:
                args.append("::facepost_msl::position_arg<%s>(pos, ::facepost_msl::Attribute::%s)" %
                            (p["type"], p["attribute"]))
        out.append("void adapter_%s(const ::facepost_msl::Invocation& inv, const ::facepost_msl::ThreadPosition& pos) {"
                   % k["name"])
        out.append("  (void)inv;")
        out.append("  (void)pos;")
        out.append("  %s(%s);" % (k["qualified"], (",\n" + " " * (len(k["qualified"]) + 3)).join(args)))
        out.append("}")
    out.append("const ::facepost_msl::Library library{")
    out.append("    %s, source_text, sizeof source_text - 1," % c_string(library_name))
    out.append("    {")
    for k in kernels:
        out.append("        {%s, &adapter_%s, {" % (c_string(k["name"]), k["name"]))
        for p in k["params"]:
            kind = {"buffer": "buffer_binding", "threadgroup": "threadgroup_binding",
                    "position": "position_attribute"}[p["kind"]]
            attr = p["attribute"] or "thread_position_in_grid"
            if p["kind"] == "position":
                size, align, ref = "0", "1", "false"
            else:
                size = "::facepost_msl::pointee_size<%s>()" % p["type"]
                align = "::facepost_msl::pointee_align<%s>()" % p["type"]
                ref = "std::is_reference<%s>::value" % p["type"]
            out.append("            {::facepost_msl::ParamKind::%s, %d, ::facepost_msl::Attribute::%s, %s, %s, %s, %s, %s},"
                       % (kind, p["index"], attr, c_string(p["name"]), c_string(p["type"]), size, align, ref))
        out.append("        }},")
    out.append("    }};")
    out.append("const ::facepost_msl::LibraryRegistrar registrar(&library);")
    out.append("}  // namespace facepost_msl_generated_%s" % ident)
    lines = ("\n".join(out) + "\n").split("\n")
    at = lines.index("@@LINE@@")
    lines[at] = "#line %d %s" % (at + 2, c_string(os.path.basename(output_name)))
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--name", help="the library's name (default: the input's file name)")
    a = ap.parse_args(argv)
    name = a.name or os.path.basename(a.input)
    try:
        code = generate(a.input, name, a.output)
    except BindingError as e:
        sys.stderr.write("gen_bindings.py: %s: %s\n" % (a.input, e))
        return 1
    tmp = a.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(code)
    os.replace(tmp, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
