-- bench/wrk/bench.lua: the request loop of bench/run (wrk 4.1, LuaJIT).
--
--   wrk ... -s bench/wrk/bench.lua URL -- MODE METHOD PATH [CONTENT_TYPE [ACCEPT [BODY]]]
--
-- MODE plain:  every request is METHOD PATH (with BODY), no cookie.
-- MODE cookie: one session per connection. wrk 4.1 does not tell a script
--   which connection a request or a response belongs to, so the script keeps
--   the binding itself: the first request of each connection is
--   `POST /session key=bench&value=wrkconn<T>x<N>z`, whose answer brings the
--   Set-Cookie and shows the tag; the cookie then goes back to the thread's
--   list of free sessions after every response, found by the tag that the
--   session's page shows (GET / lists the session's values, GET /session
--   returns them as JSON). A request takes a free session, so a session is
--   never used by two requests at once and a run holds exactly as many
--   sessions as connections, each used one request after another.
--
-- BODY may hold `{n}`, replaced in every request by a value no other request
-- of the run has (`<T>.<N>`: the thread, then its own count), so that each
-- request of `POST /session key=k&value=v{n}` really changes its session.
-- Such a request is formatted anew each time; a constant one is formatted
-- once per session and reused.
--
-- done() prints one line that bench/run reads:
--   BENCH requests=… duration_us=… rps=… p50_us=… p99_us=… max_us=…
--         connect=… read=… write=… timeout=… status=… non2xx=… sessions=… lost=…
-- non2xx counts every answer outside 200..299 (wrk's own `status` only counts
-- those above 399); lost counts answers whose session could not be told
-- (an error page), sessions the sessions the run created.

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    table.insert(threads, thread)
end

-- Per thread (each wrk thread has its own Lua state).
tid = 0
non2xx = 0
lost = 0
created = 0

local mode, method, path, ctype, accept, body
local dynamic = false -- BODY holds {n}
local sent = 0 -- requests of this thread with a {n} body, for the next value
local plain_request
local free = {} -- stack of { tag = …, cookie = …, request = … }
local known = {} -- tag -> its entry while a request of it is in flight
local slots = 0

local function headers_for(cookie)
    local h = {}
    if ctype ~= nil and ctype ~= "" and ctype ~= "-" then h["Content-Type"] = ctype end
    if accept ~= nil and accept ~= "" and accept ~= "-" then h["Accept"] = accept end
    if cookie ~= nil then h["Cookie"] = "PHPSESSID=" .. cookie end
    return h
end

function init(args)
    mode = args[1] or "plain"
    method = args[2] or "GET"
    path = args[3] or "/"
    ctype = args[4]
    accept = args[5]
    body = args[6]
    if body == "-" or body == "" then body = nil end
    if mode ~= "plain" and mode ~= "cookie" then
        error("bench.lua: MODE must be plain or cookie, not " .. tostring(mode))
    end
    dynamic = body ~= nil and string.find(body, "{n}", 1, true) ~= nil
    plain_request = wrk.format(method, path, headers_for(nil), body)
end

-- The body of the next request: BODY with every {n} replaced by a new value.
local function next_body()
    sent = sent + 1
    local n = tid .. "." .. sent
    return (string.gsub(body, "{n}", function() return n end))
end

function request()
    if mode == "plain" then
        if dynamic then return wrk.format(method, path, headers_for(nil), next_body()) end
        return plain_request
    end
    local entry = table.remove(free)
    if entry ~= nil then
        known[entry.tag] = entry
        if dynamic then return wrk.format(method, path, headers_for(entry.cookie), next_body()) end
        return entry.request
    end
    -- No free session: this connection has none yet.
    slots = slots + 1
    local tag = tid .. "x" .. slots
    known[tag] = { tag = tag }
    return wrk.format("POST", "/session", { ["Content-Type"] = "application/x-www-form-urlencoded" },
        "key=bench&value=wrkconn" .. tag .. "z")
end

local function header(headers, name)
    for k, v in pairs(headers) do
        if string.lower(k) == name then return v end
    end
    return nil
end

function response(status, headers, rbody)
    if status < 200 or status > 299 then non2xx = non2xx + 1 end
    if mode == "plain" then return end
    local tag = rbody and string.match(rbody, "wrkconn(%d+x%d+)z")
    local entry = tag and known[tag]
    if entry == nil then
        lost = lost + 1
        return
    end
    known[tag] = nil
    local set = header(headers, "set-cookie")
    local cookie = set and string.match(set, "PHPSESSID=([^;]+)")
    if cookie ~= nil and cookie ~= entry.cookie then
        if entry.cookie == nil then created = created + 1 end
        entry.cookie = cookie
        if not dynamic then entry.request = wrk.format(method, path, headers_for(cookie), body) end
    end
    if entry.cookie == nil then
        lost = lost + 1
        return
    end
    table.insert(free, entry)
end

function done(summary, latency, requests)
    local n2, lo, cr = 0, 0, 0
    for _, t in ipairs(threads) do
        n2 = n2 + (t:get("non2xx") or 0)
        lo = lo + (t:get("lost") or 0)
        cr = cr + (t:get("created") or 0)
    end
    local e = summary.errors
    local seconds = summary.duration / 1e6
    io.write(string.format(
        "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d "
        .. "connect=%d read=%d write=%d timeout=%d status=%d non2xx=%d sessions=%d lost=%d\n",
        summary.requests, summary.duration, summary.requests / seconds,
        latency:percentile(50.0), latency:percentile(99.0), latency.max,
        e.connect, e.read, e.write, e.timeout, e.status, n2, cr, lo))
end
