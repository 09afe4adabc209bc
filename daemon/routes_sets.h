// routes_sets: the keyword-set file API, for the console's editor and `yuqingctl sets`.
//
//   POST /api/v1/keyword-sets/check           body: a set file; its errors and warnings (analyst)
//   GET  /api/v1/keyword-sets/NAME            the set in force: its text, rules, hits 24 h / 7 d
//   PUT  /api/v1/keyword-sets/NAME[?base=V]   body: the new file; checked, written, reloaded (analyst)
//   GET  /api/v1/keyword-sets/NAME/versions   the recorded versions, newest first
//   GET  /api/v1/keyword-sets/NAME/versions/V one version's text (V: its hash or its number)
//   GET  /api/v1/keyword-sets/NAME/diff?from=V1&to=V2   a unified line diff
//   POST /api/v1/keyword-sets/NAME/rollback   {"version": V}: V's text saved again (analyst)
//
// Operation: a save checks the text with the code of `yuqingctl check` (parse, then a
// compile on the keyword-set thread with its time limit), refuses it with every
// diagnostic (422) when it has errors, writes it into the set directory atomically (a
// temporary file renamed over the set's file) and reloads; the set in force stays until
// the reload has taken the new one. `base` refuses a save made on a version that is no
// longer in force (409), so that two analysts do not overwrite each other silently.
// Per-rule hit counts come from the stored hits' keys, computed at most once a minute.
//
// Errors: a bad parameter answers 400 naming it; an unknown set or version 404; a compile
// still running 202 (send the same text again). Handlers run on the HTTP thread and wait
// at most 1 s for a compile and 5 s for a reload.
#pragma once

#include <filesystem>

#include "config/clock.h"
#include "http/server.h"
#include "sets/keyword_sets.h"
#include "storage/store.h"

namespace yuqing::daemon {

struct set_routes_context {
  sets::keyword_sets* sets = nullptr;      // must outlive the server's routes
  storage::store* store = nullptr;   // idem
  const clock* clk = nullptr;        // idem
  std::filesystem::path dir;         // keyword_sets.dir, where saves are written
  int utc_offset_minutes = 0;        // times in answers are shown at this offset
};

void add_set_file_routes(http::http_server& http, const set_routes_context& ctx);


}  // namespace yuqing::daemon
