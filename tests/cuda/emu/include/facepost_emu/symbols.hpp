// facepost_emu/symbols.hpp - finds the emulated __shared__ variables (function-local statics of
// the kernels) in the program's own symbol table, so that they can be poisoned before each block.
//
// `#define __shared__ static` makes every __shared__ array a static of its kernel
// instantiation. GCC does not honour a section attribute on statics of template instantiations
// (they go to per-symbol COMDAT sections), so a linker section cannot collect them; their
// symbols can: every object symbol whose demangled name is
// `facepost::cuda::detail::<name>_kernel<...>(...)::<variable>` (the kernels have no other
// statics). The harness must not be stripped; an empty result is a fatal error.
#pragma once

#include <cxxabi.h>
#include <elf.h>
#include <link.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace facepost_emu {

inline std::uintptr_t main_program_base() {
  std::uintptr_t base = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        *static_cast<std::uintptr_t*>(data) = info->dlpi_addr;
        return 1;  // the first object is the main program
      },
      &base);
  return base;
}

/// Is `name` (demangled) a static variable of a kernel in facepost::cuda::detail?
inline bool is_kernel_static(const std::string& name) {
  static const std::string prefix = "facepost::cuda::detail::";
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t var = name.rfind(")::");
  if (var == std::string::npos) return false;
  // The function's name ends just before its template arguments or its parameter list.
  std::size_t end = name.find_first_of("<(", prefix.size());
  if (end == std::string::npos || end > var) return false;
  const std::string fn = name.substr(prefix.size(), end - prefix.size());
  return fn.size() > 7 && fn.compare(fn.size() - 7, 7, "_kernel") == 0;
}

inline std::vector<SharedRange> find_shared_variables() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  const std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < sizeof(Elf64_Ehdr)) fatal("cannot read /proc/self/exe");
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(file.data());
  const auto* sh = reinterpret_cast<const Elf64_Shdr*>(file.data() + eh->e_shoff);
  const std::uintptr_t base = main_program_base();
  std::vector<SharedRange> out;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const auto* sym = reinterpret_cast<const Elf64_Sym*>(file.data() + sh[i].sh_offset);
    const char* strtab = file.data() + sh[sh[i].sh_link].sh_offset;
    const std::size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
    for (std::size_t s = 0; s < n; ++s) {
      if (ELF64_ST_TYPE(sym[s].st_info) != STT_OBJECT || sym[s].st_size == 0) continue;
      const char* mangled = strtab + sym[s].st_name;
      if (std::strncmp(mangled, "_ZZ", 3) != 0) continue;  // function-local statics only
      int status = 0;
      char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
      if (status == 0 && demangled != nullptr && is_kernel_static(demangled))
        out.push_back(SharedRange{reinterpret_cast<unsigned char*>(base + sym[s].st_value), sym[s].st_size, demangled});
      std::free(demangled);
    }
  }
  if (out.empty()) fatal("no __shared__ variable of any kernel found in the symbol table (stripped binary?)");
  return out;
}

}  // namespace facepost_emu
