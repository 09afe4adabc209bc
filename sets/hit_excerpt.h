// hit_excerpt: the text around a stored hit, cut into plain and matched pieces, so that a
// client shows the match highlighted without parsing markers out of the text (a message
// may itself contain 【】) and without ever handling it as HTML.
//
// Threads: pure functions over a store (thread-safe). Errors: a message no longer kept
// gives no excerpt (null), not an error.
#pragma once

#include <nlohmann/json.hpp>

#include "storage/store.h"

namespace yuqing::sets {

// {"region", "url", "source", "field", "excerpt": [{"text": "...", "hit": false}, ...],
//  "cut_before", "cut_after"}, about `context` bytes of text each side of the spans (cut
// at character boundaries); null when the message is no longer stored.
nlohmann::json hit_excerpt_json(const storage::store& store, const storage::hit_record& h, size_t context = 90);

// The pieces of `text` with the byte ranges `spans` (any order, may overlap) marked, from
// byte `from` to byte `to` (character boundaries).
nlohmann::json excerpt_pieces(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>> spans,
                              size_t from, size_t to);

}  // namespace yuqing::sets
