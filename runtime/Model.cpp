//===- Model.cpp - a loaded compiled model --------------------------------===//

#include "runtime/Model.h"
#include "runtime/HalideErrors.h"
#include "runtime/KernelABI.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace slim::rt {

namespace {

/// The directory of the binary or shared library that holds `slim_model`.
std::string modelDirectory() {
  Dl_info info;
  if (dladdr(&slim_model, &info) && info.dli_fname) {
    std::string path = info.dli_fname;
    size_t slash = path.rfind('/');
    if (slash != std::string::npos)
      return path.substr(0, slash);
  }
  return ".";
}

} // namespace

std::unique_ptr<Model> Model::load(const char *weightsPath,
                                   std::string &error) {
  installHalideErrorHandler();
  std::unique_ptr<Model> m(new Model());
  const slim_model_desc &d = slim_model;
  if (d.embedded_weights && !weightsPath) {
    m->weights = d.embedded_weights;
  } else {
    std::string path = weightsPath ? weightsPath
                                   : modelDirectory() + "/" + d.weights_file;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = path + ": cannot open the weights file: " + std::strerror(errno);
      return nullptr;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || int64_t(st.st_size) != d.weights_bytes) {
      error = path + ": the weights file has " +
              std::to_string(int64_t(st.st_size)) + " bytes, the model needs " +
              std::to_string(d.weights_bytes);
      ::close(fd);
      return nullptr;
    }
    if (d.weights_bytes > 0) {
      void *p = mmap(nullptr, d.weights_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        error = path + ": cannot map the weights: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
      }
      m->mapping = p;
      m->mappingSize = d.weights_bytes;
      m->weights = static_cast<const uint8_t *>(p);
    }
    ::close(fd);
  }
  m->arena = static_cast<uint8_t *>(
      std::aligned_alloc(64, size_t((d.arena_bytes + 63) / 64 * 64)));
  if (!m->arena) {
    error = "cannot allocate the " + std::to_string(d.arena_bytes) +
            "-byte arena";
    return nullptr;
  }
  return m;
}

Model::~Model() {
  if (mapping)
    munmap(mapping, mappingSize);
  std::free(arena);
}

bool Model::run(void *const *inputs, void *const *outputs,
                std::string &error) {
  int32_t rc = slim_model_compute(const_cast<void **>(inputs),
                                  const_cast<void **>(outputs), arena, weights);
  if (rc != 0) {
    error = slim_last_error();
    return false;
  }
  return true;
}

} // namespace slim::rt
