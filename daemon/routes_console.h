// routes_console: the web console (issue 22) and the one API call made for it.
//
// GET / answers the console's index.html and GET /console/PATH its other files: the copy
// built into the binary (console/files.h) or, with a directory (http.console_dir,
// development), the files read from there at each request (only .html, .css, .js, .svg
// below it; no "..", no hidden names). Every answer carries a Content-Security-Policy
// without inline script or style, X-Frame-Options, Referrer-Policy, an ETag and
// "Cache-Control: no-cache" (If-None-Match answers 304). These stay open: the files hold
// no data.
//
// GET /api/v1/whoami (viewer): {"tokens": bool, "name", "unit", "role"} of the bearer
// token; with no tokens configured, role viewer without a name (reading is open then).
//
// Threads: the handlers run on the HTTP server's thread.
#pragma once

#include <filesystem>

#include "http/server.h"

namespace yuqing::daemon {

void add_console_routes(http::http_server& http, const std::filesystem::path& console_dir,
                        bool tokens_configured);

}  // namespace yuqing::daemon
