// storage/key_codec: how numbers are written into RocksDB keys and values so that byte
// order is numeric order (big-endian), in one place for the store and the components that
// lay out their own keys (mailbox/cases.h).
#pragma once

#include <cstdint>
#include <string>

namespace yuqing::storage {

inline void put_be64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s += static_cast<char>((v >> (i * 8)) & 0xFF);
}
inline void put_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (i * 8)) & 0xFF);
}
inline std::string be64(uint64_t v) {
  std::string s;
  put_be64(s, v);
  return s;
}
inline uint64_t get_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace yuqing::storage
