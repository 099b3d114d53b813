// UTF-8 as protobuf's string fields demand it. One strict decoder for every place that must judge
// text: the content model (a text that is not UTF-8 would make the author's own store unreadable),
// the renderers of exports and the command line's terminal filter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kring::utf8 {

enum class Seq { kOk, kBad, kShort };

// The code point of the sequence at text[i] and its length. Strict: no overlong forms, no
// surrogates, nothing above U+10FFFF (each such lead or second byte is kBad at once, so kShort
// only means the sequence may still end well when more bytes follow).
Seq Decode(std::string_view text, size_t i, uint32_t& cp, size_t& len);

// Whether all of `text` is well-formed UTF-8.
bool IsValid(std::string_view text);

}  // namespace kring::utf8
