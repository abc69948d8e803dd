// KV cache append: copy T new rows after the `len` rows already cached.
#include <cstring>

#include "common.h"

extern "C" int sd_kv_append(float* cache, const float* src, int len, int T, int row, int max_len) {
  const char* op = "kv_append";
  SD_CHECK_NONNEG(op, "len", len);
  SD_CHECK_POS(op, "T", T);
  SD_CHECK_POS(op, "row", row);
  SD_CHECK_POS(op, "max_len", max_len);
  SD_CHECK_PTR(op, "cache", cache);
  SD_CHECK_PTR(op, "src", src);
  if ((long)len + T > max_len)
    return sd::fail(SD_ERANGE,
                    "kv_append: appending T = %d rows at len = %d overflows max_len = %d", T, len,
                    max_len);
  // memmove: src may be a view into the same allocation as the cache.
  std::memmove(cache + (size_t)len * row, src, sizeof(float) * (size_t)T * row);
  return SD_OK;
}

extern "C" int sd_kv_scatter(float* pool, const float* src, const int32_t* slots, int n, int row,
                             int pool_rows) {
  const char* op = "kv_scatter";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_POS(op, "row", row);
  SD_CHECK_POS(op, "pool_rows", pool_rows);
  SD_CHECK_PTR(op, "pool", pool);
  SD_CHECK_PTR(op, "src", src);
  SD_CHECK_PTR(op, "slots", slots);
  for (int i = 0; i < n; ++i)
    if (slots[i] < 0 || slots[i] >= pool_rows)
      return sd::fail(SD_ERANGE, "kv_scatter: slot %d is %d, outside the pool of %d rows", i,
                      slots[i], pool_rows);
  for (int i = 0; i < n; ++i)
    std::memcpy(pool + (size_t)slots[i] * row, src + (size_t)i * row, sizeof(float) * row);
  return SD_OK;
}
