// Fuzzes Range header resolution against an object size taken from the first 8 bytes.
#include "fuzz_common.hpp"
#include "protocol/range.hpp"

#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    if (size < 8) {
        return 0;
    }
    std::uint64_t object_size = 0;
    std::memcpy(&object_size, data, 8);
    object_size %= (1ULL << 50);
    (void)protocol::resolve_range(fuzz::as_view(data + 8, size - 8), object_size);
    return 0;
}
